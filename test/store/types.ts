// The surface the scenarios run against: the package's MessageStore/Namespace in process, or the
// HTTP client over a server. Both must satisfy the same interface, so the surfaces cannot drift.
import type {
  Message,
  WriteResult,
  BatchResult,
  NewMessage,
  SubscribeOptions,
  ConsumerGroup,
  Position,
  ConsumerHandler,
  ConsumerIdentity,
  ParkedMessage,
} from "messagedb";

export type { Message, WriteResult, BatchResult, NewMessage, SubscribeOptions, ConsumerGroup, Position, ConsumerHandler, ConsumerIdentity, ParkedMessage };

export interface NamespaceLike {
  write(stream: string, message: NewMessage, options?: { id?: string; expectedVersion?: Position }): Promise<WriteResult>;
  writeBatch(stream: string, messages: NewMessage[], options?: { expectedVersion?: Position }): Promise<BatchResult>;
  getStream(stream: string, options?: { position?: Position; globalPosition?: Position; batchSize?: Position }): Promise<Message[]>;
  getLast(stream: string, options?: { type?: string }): Promise<Message | null>;
  streamVersion(stream: string): Promise<number | null>;
  getCategory(
    category: string,
    options?: { position?: Position; batchSize?: Position; correlation?: string; consumerGroup?: ConsumerGroup },
  ): Promise<Message[]>;
  listStreams(options?: { prefix?: string; cursor?: string; limit?: number }): Promise<{ stream: string; version: number; lastActivity: Date }[]>;
  listCategories(): Promise<{ category: string; streamCount: number; messageCount: number }[]>;
  subscribe(options: SubscribeOptions): AsyncGenerator<Message, void, undefined>;
}

/**
 * The consumer surface the package's Namespace and the HTTP client share (over HTTP only the
 * identity is an option: no retry, no parking, and `info()` without head, lag and parked).
 */
export interface ConsumingLike {
  consume(
    options: ConsumerIdentity,
    handler: ConsumerHandler,
  ): { stop(): Promise<void>; info(): Promise<{ position: number | null; handled: number; active: boolean }>; readonly done: Promise<void> };
  consumerPosition(identity: ConsumerIdentity): Promise<number | null>;
  parked(identity: ConsumerIdentity): Promise<ParkedMessage[]>;
}

export interface NamespaceInfo {
  namespace: string;
  description: string;
  createdAt: Date;
  messageCount: number;
  streamCount: number;
  lastActivity: Date | null;
}

export interface StoreLike {
  namespace(id: string): NamespaceLike;
  createNamespace(
    id: string,
    options?: { description?: string; token?: string; metadata?: Record<string, unknown> },
  ): Promise<{ namespace: string; token: string; createdAt: Date }>;
  deleteNamespace(id: string): Promise<{ namespace: string; deletedAt: Date; messagesDeleted: number }>;
  listNamespaces(): Promise<{ namespace: string; description: string; createdAt: Date; messageCount: number }[]>;
  namespaceInfo(id: string): Promise<NamespaceInfo>;
  close(): Promise<void>;
}

/** What a scenario gets: a fresh, empty store (only the `default` namespace) and its teardown. */
export interface Fixture {
  store: StoreLike;
  /** `memory`, `dir` or `http`. */
  surface: string;
  /** Closes the store and removes whatever the factory created. */
  dispose(): Promise<void>;
}

export type Factory = () => Promise<Fixture>;
