// A small client of the messagedb server with the package's surface (StoreLike/NamespaceLike):
// RPC over POST /rpc, subscriptions over GET /subscribe (each SSE poke is turned into the message it
// announces with `stream.get`), and HTTP errors turned into the package's error classes through its
// `errorFor(code, message, details)` — the same conversion point the native errors go through.
import { errorFor, InvalidRequestError, type MessageDBError } from "messagedb";
import type {
  BatchResult,
  ConsumerGroup,
  ConsumerHandler,
  ConsumerIdentity,
  ConsumingLike,
  Message,
  NamespaceInfo,
  NamespaceLike,
  NewMessage,
  ParkedMessage,
  Position,
  StoreLike,
  SubscribeOptions,
  WriteResult,
} from "./types";
import { makeToken } from "./util";

type Json = any;

const num = (p: Position | undefined | null): number | undefined => (p === undefined || p === null ? undefined : Number(p));

/** Drops `undefined` fields (JSON.stringify would too, but bigint must become number first). */
function clean(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out;
}

/** An HTTP error body `{"error":{code,message,details}}` as the package's class. */
function httpError(status: number, text: string): MessageDBError | Error {
  let body: Json;
  try {
    body = JSON.parse(text);
  } catch {
    // SSE parameter errors are plain text (wire-protocol §4): all INVALID_REQUEST.
    if (status === 400) return new InvalidRequestError("INVALID_REQUEST", text);
    return new Error(`HTTP ${status}: ${text}`);
  }
  const e = body?.error;
  if (!e || typeof e.code !== "string") return new Error(`HTTP ${status}: ${text}`);
  return errorFor(e.code, e.message, e.details ?? {});
}

/** `[id, type, position, globalPosition, data, metadata, time]` of `stream`. */
function streamMessage(stream: string, a: Json[]): Message {
  return { id: a[0], streamName: stream, type: a[1], position: a[2], globalPosition: a[3], data: a[4], metadata: a[5], time: new Date(a[6]) };
}

/** `[id, streamName, type, position, globalPosition, data, metadata, time]`. */
function categoryMessage(a: Json[]): Message {
  return { id: a[0], streamName: a[1], type: a[2], position: a[3], globalPosition: a[4], data: a[5], metadata: a[6], time: new Date(a[7]) };
}

function wireMessage(m: NewMessage): Record<string, unknown> {
  return clean({ type: m.type, data: m.data, metadata: m.metadata, id: m.id });
}

async function rpc(url: string, token: string, method: string, ...args: unknown[]): Promise<Json> {
  const res = await fetch(`${url}/rpc`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify([method, ...args]),
  });
  const text = await res.text();
  if (res.status !== 200) throw httpError(res.status, text);
  return JSON.parse(text);
}

export class HttpNamespace implements NamespaceLike, ConsumingLike {
  constructor(
    readonly url: string,
    readonly token: string,
  ) {}

  private call(method: string, ...args: unknown[]) {
    return rpc(this.url, this.token, method, ...args);
  }

  async write(stream: string, message: NewMessage, options: { id?: string; expectedVersion?: Position } = {}): Promise<WriteResult> {
    const r = await this.call("stream.write", stream, wireMessage(message), clean({ id: options.id, expectedVersion: num(options.expectedVersion) }));
    return { position: r.position, globalPosition: r.globalPosition };
  }

  async writeBatch(stream: string, messages: NewMessage[], options: { expectedVersion?: Position } = {}): Promise<BatchResult> {
    return this.call("stream.writeBatch", stream, messages.map(wireMessage), clean({ expectedVersion: num(options.expectedVersion) }));
  }

  async getStream(stream: string, options: { position?: Position; globalPosition?: Position; batchSize?: Position } = {}): Promise<Message[]> {
    const list: Json[][] = await this.call(
      "stream.get",
      stream,
      clean({ position: num(options.position), globalPosition: num(options.globalPosition), batchSize: num(options.batchSize) }),
    );
    return list.map((a) => streamMessage(stream, a));
  }

  async getLast(stream: string, options: { type?: string } = {}): Promise<Message | null> {
    const a = await this.call("stream.last", stream, clean({ type: options.type }));
    return a === null ? null : streamMessage(stream, a);
  }

  async streamVersion(stream: string): Promise<number | null> {
    return this.call("stream.version", stream);
  }

  async getCategory(
    category: string,
    options: { position?: Position; batchSize?: Position; correlation?: string; consumerGroup?: ConsumerGroup } = {},
  ): Promise<Message[]> {
    const group = options.consumerGroup && { member: num(options.consumerGroup.member), size: num(options.consumerGroup.size) };
    const list: Json[][] = await this.call(
      "category.get",
      category,
      clean({ position: num(options.position), batchSize: num(options.batchSize), correlation: options.correlation, consumerGroup: group }),
    );
    return list.map(categoryMessage);
  }

  async listStreams(options: { prefix?: string; cursor?: string; limit?: number } = {}) {
    const list: { stream: string; version: number; lastActivity: string }[] = await this.call("ns.streams", clean(options));
    return list.map((s) => ({ ...s, lastActivity: new Date(s.lastActivity) }));
  }

  async listCategories(): Promise<{ category: string; streamCount: number; messageCount: number }[]> {
    return this.call("ns.categories");
  }

  /** GET /subscribe; each poke becomes the message it announces (read with `stream.get`). */
  subscribe(options: SubscribeOptions): AsyncGenerator<Message, void, undefined> {
    const self = this;
    return (async function* () {
      const q = new URLSearchParams();
      if (options.stream !== undefined) q.set("stream", options.stream);
      if (options.category !== undefined) q.set("category", options.category);
      if (options.all) q.set("all", "true");
      if (options.position !== undefined) q.set("position", String(options.position));
      if (options.consumerGroup) {
        q.set("consumer", String(options.consumerGroup.member));
        q.set("size", String(options.consumerGroup.size));
      }
      const controller = new AbortController();
      try {
        for await (const event of self.events(q, controller.signal)) if (event !== "ready") yield event;
      } finally {
        controller.abort();
      }
    })();
  }

  /** `GET /subscribe?<q>`: `"ready"` for the `: ready` comment, then each poke's message. */
  private async *events(q: URLSearchParams, signal: AbortSignal): AsyncGenerator<Message | "ready", void, undefined> {
    q.set("token", this.token);
    const res = await fetch(`${this.url}/subscribe?${q}`, { signal });
    if (res.status !== 200) throw httpError(res.status, await res.text());
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let buf = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buf += dec.decode(value, { stream: true });
      let idx: number;
      while ((idx = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, idx);
        buf = buf.slice(idx + 2);
        const lines = block.split("\n");
        if (lines.includes(": ready")) yield "ready";
        if (!lines.some((l) => l === "event: poke")) continue; // keepalives
        const data = lines.find((l) => l.startsWith("data:"))!.slice(5).trim();
        const poke: { stream: string; position: number; globalPosition: number } = JSON.parse(data);
        const [m] = await this.getStream(poke.stream, { position: poke.position, batchSize: 1 });
        if (!m || m.position !== poke.position || m.globalPosition !== poke.globalPosition) {
          throw new Error(`poke ${data} does not match the stored message ${JSON.stringify(m)}`);
        }
        yield m;
      }
    }
  }

  // Consumers over HTTP (consumers.md, "Over HTTP"): the server holds the name while the
  // subscription is connected and resumes it after the position; the client acknowledges each
  // message with `consumer.ack`, and the server records the acknowledgements as a consumer does.

  /** The trailing `options` argument of the `consumer.*` methods: the group, when there is one. */
  private static groupOption(id: ConsumerIdentity): unknown[] {
    return id.group ? [{ consumerGroup: { member: num(id.group.member), size: num(id.group.size) } }] : [];
  }

  /** `consumer.position`: the recorded position, or the one acknowledged on this server if newer. */
  consumerPosition(id: ConsumerIdentity): Promise<number | null> {
    return this.call("consumer.position", id.category, id.name, ...HttpNamespace.groupOption(id));
  }

  /** `consumer.ack`: the consumer's position moves to `globalPosition` (never back); returns it. */
  ack(id: ConsumerIdentity, globalPosition: Position): Promise<{ position: number }> {
    return this.call("consumer.ack", id.category, id.name, num(globalPosition), ...HttpNamespace.groupOption(id));
  }

  /** `consumer.parked`: the outstanding parked messages (parked by in-process consumers). */
  parked(id: ConsumerIdentity): Promise<ParkedMessage[]> {
    return this.call("consumer.parked", id.category, id.name, ...HttpNamespace.groupOption(id));
  }

  /** `consumer.list`: the consumers with a recorded position or seen by this server. */
  consumers(options: { category?: string } = {}): Promise<HttpConsumerListing[]> {
    return this.call("consumer.list", clean(options));
  }

  /**
   * The pull form over HTTP: `for await (const m of ns.consumer(options)) { …; await m.ack(); }`.
   * Only the identity (`category`, `name`, `group`) goes to the server; the server records
   * positions on its own schedule, holds the name (a second one waits as a standby: no `: ready`,
   * no pokes) and resumes after the position. There is no nack over HTTP.
   */
  consumer(options: ConsumerIdentity): HttpConsumerIterator {
    const self = this;
    const controller = new AbortController();
    const state = { active: false, handled: 0 };
    const messages = (async function* () {
      const q = new URLSearchParams({ category: options.category, name: options.name });
      if (options.group) {
        q.set("consumer", String(options.group.member));
        q.set("size", String(options.group.size));
      }
      try {
        for await (const event of self.events(q, controller.signal)) {
          if (event === "ready") {
            state.active = true;
            continue;
          }
          const ack = async () => {
            await self.ack(options, event.globalPosition);
            state.handled += 1;
          };
          // Not enumerable: the message compares as a plain Message.
          yield Object.defineProperty(event, "ack", { value: ack }) as HttpConsumerMessage;
        }
      } catch (e) {
        // stop(): the subscription was aborted on purpose.
        if (!controller.signal.aborted) throw e;
      } finally {
        controller.abort();
        state.active = false;
      }
    })();
    return Object.assign(messages, {
      info: async (): Promise<HttpConsumerInfo> => ({ position: await self.consumerPosition(options), handled: state.handled, active: state.active }),
      async stop() {
        controller.abort();
        await messages.return(undefined);
      },
    });
  }

  /**
   * The handler form over HTTP, as the package's `ns.consume(options, handler)`: each message is
   * handed to `handler`, then acknowledged. A handler that throws stops the consumer with its
   * error (`done` rejects, the message is not acknowledged and comes first at the next start):
   * over HTTP there is no retry and no parking, those are the in-process consumers'.
   */
  consume(options: ConsumerIdentity, handler: ConsumerHandler): HttpConsumerHandle {
    const messages = this.consumer(options);
    let stopping = false;
    let handling = false;
    const run = async () => {
      // Leaving the loop (stop, a throwing handler, an error) closes the subscription.
      for await (const m of messages) {
        if (stopping) break;
        handling = true;
        try {
          await handler(m);
        } finally {
          handling = false;
        }
        await m.ack();
        if (stopping) break;
      }
    };
    const done = run();
    return {
      // The handler in progress finishes and is acknowledged first.
      stop() {
        stopping = true;
        if (!handling) void messages.stop();
        return done;
      },
      info: () => messages.info(),
      done,
    };
  }
}

/** A consumer's progress as its HTTP client knows it (lag and parked: `consumer.list`). */
export interface HttpConsumerInfo {
  /** The server's position of the consumer (`consumer.position`). */
  position: number | null;
  /** Messages acknowledged by this client. */
  handled: number;
  /** Whether the server made this connection the active instance (`: ready`). */
  active: boolean;
}

/** A message of an HTTP consumer: acknowledge it with `ack()`. */
export interface HttpConsumerMessage extends Message {
  ack(): Promise<void>;
}

export interface HttpConsumerIterator extends AsyncGenerator<HttpConsumerMessage, void, undefined> {
  info(): Promise<HttpConsumerInfo>;
  /** Closes the subscription (the server lets go of the name). */
  stop(): Promise<void>;
}

export interface HttpConsumerHandle {
  stop(): Promise<void>;
  info(): Promise<HttpConsumerInfo>;
  /** Resolves when the consumer ends (stopped, or the server ended the subscription); rejects
   * with a handler's error or an HTTP error. */
  readonly done: Promise<void>;
}

/** One row of `consumer.list`. */
export interface HttpConsumerListing {
  category: string;
  name: string;
  group: { member: number; size: number } | null;
  position: number | null;
  lag: number;
  parked: number;
}

/**
 * A store over a server: `default` uses the admin token; namespaces created through this client use
 * the token `ns.create` returned; any other namespace gets a well-formed token of its own (accepted
 * in test mode).
 */
export class HttpStore implements StoreLike {
  private tokens = new Map<string, string>();

  constructor(
    readonly url: string,
    readonly adminToken: string,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {
    this.tokens.set("default", adminToken);
  }

  private admin(method: string, ...args: unknown[]) {
    return rpc(this.url, this.adminToken, method, ...args);
  }

  namespace(id: string): HttpNamespace {
    let token = this.tokens.get(id);
    if (!token) {
      token = makeToken(id);
      this.tokens.set(id, token);
    }
    return new HttpNamespace(this.url, token);
  }

  async createNamespace(id: string, options: { description?: string; token?: string; metadata?: Record<string, unknown> } = {}) {
    const r = await this.admin("ns.create", id, clean(options));
    this.tokens.set(id, r.token);
    return { ...r, createdAt: new Date(r.createdAt) };
  }

  async deleteNamespace(id: string) {
    const r = await this.admin("ns.delete", id);
    return { ...r, deletedAt: new Date(r.deletedAt) };
  }

  async listNamespaces() {
    const list: Json[] = await this.admin("ns.list");
    return list.map((n) => ({ ...n, createdAt: new Date(n.createdAt) }));
  }

  async namespaceInfo(id: string): Promise<NamespaceInfo> {
    const r = await this.admin("ns.info", id);
    return { ...r, createdAt: new Date(r.createdAt), lastActivity: r.lastActivity ? new Date(r.lastActivity) : null };
  }

  async close() {
    await this.onClose();
  }
}
