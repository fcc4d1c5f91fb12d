/**
 * messagedb for Bun and Node: a message store on the Message DB model (streams, categories,
 * optimistic concurrency, consumer groups, subscriptions), in process on embedded SQLite or
 * PostgreSQL, plus the bundled HTTP server.
 *
 * ```ts
 * import { MessageStore } from "messagedb";
 * const store = await MessageStore.open(":memory:");
 * const ns = store.namespace("default");
 * await ns.write("account-1", { type: "Opened", data: { owner: "ada" } }, { expectedVersion: -1 });
 * for await (const m of ns.subscribe({ category: "account" })) { console.log(m.type); break; }
 * ```
 * @packageDocumentation
 */
import * as nativeModule from "../native/index.cjs";
import { native } from "./call";
import { toMessageDBError } from "./errors";
import { type ConsumerGroup, type Message, type Position, type RawMessage, num, toMessage } from "./message";
import * as consumers from "./consumer";
import type {
  ConsumerHandle,
  ConsumerHandler,
  ConsumerIdentity,
  ConsumerInfo,
  ConsumerIterator,
  ConsumerOptions,
  ParkedMessage,
  ReplayResult,
} from "./consumer";

export * from "./errors";
export type { ConsumerGroup, Message, Position } from "./message";
export type {
  ConsumerHandle,
  ConsumerHandler,
  ConsumerIdentity,
  ConsumerInfo,
  ConsumerIterator,
  ConsumerMessage,
  ConsumerOptions,
  NackResult,
  ParkedMessage,
  ReplayResult,
} from "./consumer";

const addon = nativeModule as typeof import("../native/index.cjs");

/** `Symbol.asyncDispose` where the runtime has it (Node 20+, Bun), a registered symbol otherwise. */
const asyncDispose: typeof Symbol.asyncDispose =
  (Symbol as { asyncDispose?: typeof Symbol.asyncDispose }).asyncDispose ??
  (Symbol.for("Symbol.asyncDispose") as typeof Symbol.asyncDispose);

/** A message to write. */
export interface NewMessage {
  /** Its type (non-empty). */
  type: string;
  /** The payload (an object). */
  data: Record<string, unknown>;
  /** Metadata (an object), or null. */
  metadata?: Record<string, unknown> | null;
  /** Its id (UUID); generated as a UUIDv7 when absent. For `writeBatch` only. */
  id?: string;
}

/** Where a write landed. */
export interface WriteResult {
  /** Stream position. */
  position: number;
  /** Global position. */
  globalPosition: number;
}

/** Where a batch landed. */
export interface BatchResult extends WriteResult {
  /** Stream position of the last message. */
  lastPosition: number;
  /** Global position of the last message. */
  lastGlobalPosition: number;
}

/** What a subscription follows: exactly one of `stream`, `category`, `all`. */
export interface SubscribeOptions {
  stream?: string;
  category?: string;
  all?: boolean;
  /** Stream position for a stream, global position otherwise (inclusive; default the start). */
  position?: Position;
  /** For category subscriptions. */
  consumerGroup?: ConsumerGroup;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function toNative(m: NewMessage, id?: string) {
  return {
    type: typeof m?.type === "string" ? m.type : "",
    // Anything but an object reaches the core as JSON `null`, which it refuses with its message.
    dataJson: isObject(m?.data) ? JSON.stringify(m.data) : "null",
    metadataJson: m?.metadata === undefined || m?.metadata === null ? undefined : JSON.stringify(m.metadata),
    id: id ?? m?.id,
  };
}

/** A namespace's messages. */
export class Namespace {
  /** @internal */
  constructor(private readonly inner: InstanceType<typeof addon.NativeNamespace>) {}

  /** Writes one message; `expectedVersion` (-1 = the stream must be empty) is checked atomically. */
  async write(stream: string, message: NewMessage, options: { id?: string; expectedVersion?: Position } = {}): Promise<WriteResult> {
    const r = await native(() => this.inner.write(stream, toNative(message, options.id), num(options.expectedVersion)));
    return { position: r.position, globalPosition: r.globalPosition };
  }

  /** Writes several messages to one stream atomically, at contiguous positions. */
  async writeBatch(stream: string, messages: NewMessage[], options: { expectedVersion?: Position } = {}): Promise<BatchResult> {
    return native(() => this.inner.writeBatch(stream, messages.map((m) => toNative(m)), num(options.expectedVersion)));
  }

  /** A stream's messages by position (batch size default 1000, max 10000, -1 = all). */
  async getStream(stream: string, options: { position?: Position; globalPosition?: Position; batchSize?: Position } = {}): Promise<Message[]> {
    const json = await native(() =>
      this.inner.getStream(stream, {
        position: num(options.position),
        globalPosition: num(options.globalPosition),
        batchSize: num(options.batchSize),
      }),
    );
    return (JSON.parse(json) as RawMessage[]).map(toMessage);
  }

  /** A stream's last message (optionally the last of a type), or `null`. */
  async getLast(stream: string, options: { type?: string } = {}): Promise<Message | null> {
    const raw = JSON.parse(await native(() => this.inner.getLast(stream, options.type))) as RawMessage | null;
    return raw && toMessage(raw);
  }

  /** A stream's version (its last position), or `null` when it has no messages. */
  async streamVersion(stream: string): Promise<number | null> {
    return (await native(() => this.inner.streamVersion(stream))) ?? null;
  }

  /** A category's messages by global position; `""` reads every message of the namespace. */
  async getCategory(
    category: string,
    options: { position?: Position; batchSize?: Position; correlation?: string; consumerGroup?: ConsumerGroup } = {},
  ): Promise<Message[]> {
    const json = await native(() =>
      this.inner.getCategory(category, {
        position: num(options.position),
        batchSize: num(options.batchSize),
        correlation: options.correlation,
        member: num(options.consumerGroup?.member),
        size: num(options.consumerGroup?.size),
      }),
    );
    return (JSON.parse(json) as RawMessage[]).map(toMessage);
  }

  /** Streams in byte order of their names. */
  async listStreams(options: { prefix?: string; cursor?: string; limit?: number } = {}): Promise<{ stream: string; version: number; lastActivity: Date }[]> {
    const json = await native(() => this.inner.listStreams(options.prefix, options.cursor, options.limit));
    return (JSON.parse(json) as { stream: string; version: number; lastActivity: string }[]).map((s) => ({
      ...s,
      lastActivity: new Date(s.lastActivity),
    }));
  }

  /** Categories with their stream and message counts. */
  async listCategories(): Promise<{ category: string; streamCount: number; messageCount: number }[]> {
    return JSON.parse(await native(() => this.inner.listCategories()));
  }

  /**
   * Every matching message at or after the start position, history then live, exactly once and in
   * order. `break` (or `return()`) closes it; so does closing the store.
   */
  subscribe(options: SubscribeOptions): AsyncGenerator<Message, void, undefined> {
    const inner = this.inner;
    return (async function* () {
      const sub = await native(() =>
        inner.subscribe({
          stream: options.stream,
          category: options.category,
          all: options.all,
          position: num(options.position),
          member: num(options.consumerGroup?.member),
          size: num(options.consumerGroup?.size),
        }),
      );
      try {
        for (;;) {
          const json = await native(() => sub.next());
          if (json === null || json === undefined) return;
          yield toMessage(JSON.parse(json));
        }
      } finally {
        sub.close();
      }
    })();
  }

  /**
   * Starts a consumer with a handler: a named, durable reader of a category that resumes after its
   * recorded position, hands each message to `handler` once and in order, retries a failing one
   * (a throw or rejection) and parks it when it keeps failing. Only one instance per identity is
   * active, in any process: this one waits as a standby until it is.
   *
   * Delivery is exactly once and in order within a run, and at least once across a crash: at most
   * `positionUpdateInterval` − 1 messages are handed again after one, and those handled while
   * the last recording was being written in the background. While consumers run,
   * SIGINT and SIGTERM stop them cleanly (positions recorded) before the signal takes effect,
   * unless the application listens to that signal itself.
   *
   * ```ts
   * const projector = ns.consume({ category: "account", name: "projector" }, async (m) => { await project(m); });
   * // …
   * await projector.stop();
   * ```
   * @throws InvalidRequestError for a bad category, name, group or option.
   */
  consume(options: ConsumerOptions, handler: ConsumerHandler): ConsumerHandle {
    return consumers.consume(this.inner, options, handler);
  }

  /**
   * A consumer in pull form, with explicit acknowledgements: acknowledge each message
   * (`m.ack()` / `m.nack(error)`) before the loop asks for the next. Leaving the loop stops it
   * cleanly (its position recorded). Same delivery and one-active-instance rules as
   * {@link Namespace.consume}; the first message waits until this instance is the active one.
   *
   * ```ts
   * for await (const m of ns.consumer({ category: "account", name: "mailer" })) {
   *   try { await send(m); await m.ack(); } catch (e) { await m.nack(e); }
   * }
   * ```
   * @throws InvalidRequestError for a bad category, name, group or option.
   */
  consumer(options: ConsumerOptions): ConsumerIterator {
    return consumers.consumer(this.inner, options);
  }

  /** The global position a consumer recorded last, `null` when it recorded none. */
  async consumerPosition(identity: ConsumerIdentity): Promise<number | null> {
    return consumers.consumerPosition(this.inner, identity);
  }

  /** Records a consumer's position, to reset or rewind it: it resumes after `position`. */
  async setConsumerPosition(identity: ConsumerIdentity, position: Position): Promise<void> {
    return consumers.setConsumerPosition(this.inner, identity, position);
  }

  /** A consumer's progress from its recorded position (`handled` 0, `active` false). */
  async consumerInfo(identity: ConsumerIdentity): Promise<ConsumerInfo> {
    return consumers.consumerInfo(this.inner, identity);
  }

  /** The messages a consumer parked and that were not replayed or discarded since, oldest first. */
  async parked(identity: ConsumerIdentity): Promise<ParkedMessage[]> {
    return consumers.parked(this.inner, identity);
  }

  /**
   * Hands each parked message to `handler` again, oldest first: one it handles is recorded as
   * replayed (no longer parked); one it fails stays parked and is listed in `failed`. A parked
   * message whose original is gone is discarded.
   */
  async replayParked(identity: ConsumerIdentity, handler: ConsumerHandler): Promise<ReplayResult> {
    return consumers.replayParked(this.inner, identity, handler);
  }

  /** Gives up every parked message of a consumer; returns how many. */
  async discardParked(identity: ConsumerIdentity): Promise<number> {
    return consumers.discardParked(this.inner, identity);
  }
}

/** A message store: embedded SQLite (`":memory:"`, a directory) or PostgreSQL (`"postgres://…"`). */
export class MessageStore {
  private constructor(private readonly inner: InstanceType<typeof addon.NativeStore>) {}

  /** Opens a store; the `default` namespace exists after open. */
  static async open(url: string): Promise<MessageStore> {
    return new MessageStore(await native(() => addon.NativeStore.open(url)));
  }

  /** `"sqlite"` or `"postgres"`. */
  get backend(): string {
    return this.inner.backend;
  }

  /** A namespace's messages (an unknown namespace fails at first use). */
  namespace(id: string): Namespace {
    return new Namespace(this.inner.namespace(id));
  }

  /** Short for {@link MessageStore.namespace}. */
  ns(id: string): Namespace {
    return this.namespace(id);
  }

  /** Creates a namespace; its token is returned once (only its hash is stored). */
  async createNamespace(
    id: string,
    options: { description?: string; token?: string; metadata?: Record<string, unknown> } = {},
  ): Promise<{ namespace: string; token: string; createdAt: Date }> {
    const json = await native(() =>
      this.inner.createNamespace(id, {
        description: options.description,
        token: options.token,
        metadataJson: options.metadata === undefined ? undefined : JSON.stringify(options.metadata),
      }),
    );
    const r = JSON.parse(json);
    return { ...r, createdAt: new Date(r.createdAt) };
  }

  /** Deletes a namespace and its messages. */
  async deleteNamespace(id: string): Promise<{ namespace: string; deletedAt: Date; messagesDeleted: number }> {
    const r = JSON.parse(await native(() => this.inner.deleteNamespace(id)));
    return { ...r, deletedAt: new Date(r.deletedAt) };
  }

  /** Every namespace, newest first. */
  async listNamespaces(): Promise<{ namespace: string; description: string; createdAt: Date; messageCount: number }[]> {
    const list = JSON.parse(await native(() => this.inner.listNamespaces()));
    return list.map((n: { createdAt: string }) => ({ ...n, createdAt: new Date(n.createdAt) }));
  }

  /** A namespace's details with real counts. */
  async namespaceInfo(id: string): Promise<{
    namespace: string;
    description: string;
    createdAt: Date;
    messageCount: number;
    streamCount: number;
    lastActivity: Date | null;
    metadata: Record<string, unknown> | null;
  }> {
    const r = JSON.parse(await native(() => this.inner.namespaceInfo(id)));
    return { ...r, createdAt: new Date(r.createdAt), lastActivity: r.lastActivity ? new Date(r.lastActivity) : null };
  }

  /** Closes the store: subscriptions end, later calls fail with `ClosedError`. */
  async close(): Promise<void> {
    await this.inner.close();
  }

  /** `await using store = await MessageStore.open(…)`. */
  async [asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** A server started by {@link serve}. */
export interface Server {
  /** `http://127.0.0.1:<port>` (or the bound host). */
  url: string;
  /** The bound port. */
  port: number;
  /** The `default` namespace's (admin) token. */
  token: string;
  /** Stops the server. */
  close(): Promise<void>;
}

/**
 * Starts the same server as `messagedb serve` in this process: test mode, any free port and
 * loopback only (127.0.0.1) by default — test mode's `default` token is public, so pass
 * `host: "0.0.0.0"` (or `"::"`) only to listen on every interface on purpose. A port outside
 * 0–65535 rejects with `InvalidRequestError`.
 */
export async function serve(
  options: { port?: number; testMode?: boolean; dbUrl?: string; token?: string; dataDir?: string; host?: string } = {},
): Promise<Server> {
  const s = await native(() => addon.serve(options));
  return { url: s.url, port: s.port, token: s.token, close: () => s.close() };
}

/** The category of a stream: the text before the first `-`. */
export const category = (name: string): string => addon.category(name);
/** The id of a stream: the text after the first `-`, or `null`. */
export const id = (name: string): string | null => addon.id(name) ?? null;
/** The cardinal id of a stream: its id up to the first `+`, or `null`. */
export const cardinalId = (name: string): string | null => addon.cardinalId(name) ?? null;
/** Whether a name is a category (no `-`). */
export const isCategory = (name: string): boolean => addon.isCategory(name);
/** Message DB's `hash_64` of a string (a signed 64-bit integer). */
export const hash64 = (value: string): bigint => addon.hash64(value);
/** The member of a consumer group of `size` members that reads a stream: `abs(hash64(cardinal
 * id)) % size`; `null` for a stream without an id (no member reads it) and for a size below 1. */
export const consumerGroupMember = (name: string, size: number): number | null =>
  addon.consumerGroupMember(name, size) ?? null;

/** One code of the error table every surface shares. */
export interface ErrorCodeInfo {
  /** The stable code, e.g. `INVALID_REQUEST`. */
  code: string;
  /** The HTTP status the server answers it with. */
  status: number;
  /** Whether an error of this code may succeed when tried again (`BACKEND_ERROR` only; each such error says, `retryable`). */
  retryable: boolean;
}

/** Every error code of messagedb, in the order of the documented table ({@link errorFor} gives each one's class). */
export const errorCodes = (): ErrorCodeInfo[] => addon.errorCodes();

export { toMessageDBError };
