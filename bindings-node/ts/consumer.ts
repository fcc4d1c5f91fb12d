/**
 * Consumers (consumers.md): named, durable readers of one category. The native side is the core's
 * pull form (`NativeConsumer`); the handler form, the async iterator and the replay of parked
 * messages loop here, so that the application's handlers run in JS.
 */
import type { NativeConsumer, NativeConsumerId, NativeConsumerOptions, NativeNamespace } from "../native/index.cjs";
import { native, nativeSync } from "./call";
import { ClosedError, InvalidRequestError } from "./errors";
import { type ConsumerGroup, type Message, type Position, type RawMessage, num, toMessage } from "./message";
import { stopOnSignals } from "./signals";

/** Who a consumer is: two consumers with the same identity share one position. */
export interface ConsumerIdentity {
  /**
   * The category it reads, e.g. `"account"` or `"account:command"`; `""` reads every message of
   * the namespace except the consumers' own position and parked streams.
   */
  category: string;
  /** Its name: 1–128 characters of `[A-Za-z0-9_.-]`. */
  name: string;
  /** One member of a consumer group: its own identity and position (`<name>_<member>_<size>`). */
  group?: ConsumerGroup;
}

/**
 * A consumer's options. Its position is recorded in the store, in the Eventide-named stream
 * `<category>:position-<name>`, every `positionUpdateInterval` handled messages, after
 * `positionUpdateIdle` without new messages, and on a clean stop.
 */
export interface ConsumerOptions extends ConsumerIdentity {
  /** Only messages correlated with this category (as in `getCategory`). */
  correlation?: string;
  /**
   * Where to start when no position is recorded: `"beginning"` (the default), `"end"` (after the
   * namespace's last message when the consumer opens) or a global position.
   */
  start?: "beginning" | "end" | Position;
  /** Record the position after this many handled messages (default 100). */
  positionUpdateInterval?: number;
  /** Record an unrecorded position after this long without new messages (ms, default 1000). */
  positionUpdateIdle?: number;
  /** How a failing message is retried: `attempts` retries (default 3), the first after
   * `initialDelay` (ms, default 100), doubling up to `maxDelay` (ms, default 10000). `attempts: 0`
   * parks at once. */
  retry?: { attempts?: number; initialDelay?: number; maxDelay?: number };
  /** What happens to a message that failed every try: `"park"` it and go on (the default), or
   * `"stop"` the consumer (the message comes first at the next start). */
  onError?: "park" | "stop";
  /** Within how long a standby takes over after the active instance stops or dies (ms, default 5000). */
  lease?: number;
}

/** A consumer's progress. */
export interface ConsumerInfo {
  /** The global position of the last message it handled (recorded, or acknowledged in this run),
   * `null` before its first. For a consumer not running here, the recorded one. */
  position: number | null;
  /** The namespace's last global position (0 when empty). */
  head: number;
  /** Messages of the consumer's category after `position` (counted up to 1 000 000). */
  lag: number;
  /** Messages handled in this run (0 for a consumer not running here). */
  handled: number;
  /** Parked messages not yet replayed or discarded. */
  parked: number;
  /** Whether this is the active instance (false for a standby, or a consumer not running here). */
  active: boolean;
}

/** A message that failed every try, recorded in the consumer's parked stream. */
export interface ParkedMessage {
  /** The parked message's stream. */
  stream: string;
  /** Its position in that stream. */
  position: number;
  /** Its global position (which names it). */
  globalPosition: number;
  /** Its type. */
  type: string;
  /** Its id. */
  id: string;
  /** The error of its last try. */
  error: string;
  /** How many times it was tried. */
  attempts: number;
  /** When it was parked (ISO 8601, UTC). */
  parkedAt: string;
}

/** What became of a negatively acknowledged message. */
export interface NackResult {
  /** `"retrying"`: it is handed out again after `delay`; `"parked"`: it failed every try and was
   * parked, the consumer goes on; `"stopped"`: it failed every try and the consumer stopped. */
  outcome: "retrying" | "parked" | "stopped";
  /** How many tries failed so far (`"retrying"` only). */
  attempt?: number;
  /** Milliseconds until it is handed out again (`"retrying"` only). */
  delay?: number;
}

/** A message handed out by {@link ConsumerIterator}: acknowledge it before asking for the next. */
export interface ConsumerMessage extends Message {
  /** It is handled: the position moves past it. */
  ack(): Promise<void>;
  /** Handling it failed (the error's message is kept): it is retried, parked, or the consumer stops. */
  nack(error: unknown): Promise<NackResult>;
}

/** Handles one message; throwing (or rejecting) is a nack with the error's message. */
export type ConsumerHandler = (message: Message) => unknown;

/** A consumer started by `consume()`. */
export interface ConsumerHandle {
  /**
   * Stops it: a standby gives up waiting; an active consumer lets the handler in progress finish,
   * records its position and lets go of its identity. Resolves (or rejects) as {@link done}.
   */
  stop(): Promise<void>;
  /** Its progress. */
  info(): Promise<ConsumerInfo>;
  /**
   * Resolves when the consumer ends (`stop()`, the store closed, or `onError: "stop"`), rejects
   * with the store's error when it fails.
   */
  readonly done: Promise<void>;
}

/** A consumer in pull form: `for await (const m of ns.consumer(options)) { …; await m.ack(); }`. */
export interface ConsumerIterator extends AsyncGenerator<ConsumerMessage, void, undefined> {
  /** Its progress. */
  info(): Promise<ConsumerInfo>;
  /** Stops it as leaving the loop does: the position is recorded. */
  stop(): Promise<void>;
}

/** What `replayParked` did. */
export interface ReplayResult {
  /** How many parked messages the handler handled (each is now recorded as replayed). */
  replayed: number;
  /** The ones that failed again, with the error; they stay parked. */
  failed: { parked: ParkedMessage; error: string }[];
}

/** The text a failure is recorded with. */
const errorText = (e: unknown): string => (e instanceof Error ? e.message || String(e) : String(e));

const numberOption = (v: unknown): number | undefined => (v === undefined || v === null ? undefined : Number(v));

function nativeOptions(o: ConsumerOptions): NativeConsumerOptions {
  const start = o?.start;
  const at = typeof start === "number" || typeof start === "bigint";
  return {
    category: typeof o?.category === "string" ? o.category : undefined,
    name: typeof o?.name === "string" ? o.name : undefined,
    member: num(o?.group?.member),
    size: num(o?.group?.size),
    correlation: o?.correlation === undefined || o?.correlation === null ? undefined : String(o.correlation),
    start: start === undefined || start === null || at ? undefined : String(start),
    startAt: at ? Number(start) : undefined,
    positionUpdateInterval: numberOption(o?.positionUpdateInterval),
    positionUpdateIdleMs: numberOption(o?.positionUpdateIdle),
    retryAttempts: numberOption(o?.retry?.attempts),
    retryInitialDelayMs: numberOption(o?.retry?.initialDelay),
    retryMaxDelayMs: numberOption(o?.retry?.maxDelay),
    onError: o?.onError === undefined || o?.onError === null ? undefined : String(o.onError),
    leaseMs: numberOption(o?.lease),
  };
}

async function info(c: NativeConsumer | NativeConsumerId): Promise<ConsumerInfo> {
  const i = await native(() => c.info());
  return { position: i.position ?? null, head: i.head, lag: i.lag, handled: i.handled, parked: i.parked, active: i.active };
}

/** Stops the native consumer (recording its position); a closed store has nothing to record to. */
async function stopNative(c: NativeConsumer): Promise<void> {
  try {
    await native(() => c.stop());
  } catch (e) {
    if (!(e instanceof ClosedError)) throw e;
  }
}

/** The next message, or `null` when the consumer ended. */
async function next(c: NativeConsumer): Promise<Message | null> {
  const json = await native(() => c.next());
  return json === null || json === undefined ? null : toMessage(JSON.parse(json) as RawMessage);
}

async function nack(c: NativeConsumer, m: Message, error: unknown): Promise<NackResult> {
  const r = await native(() => c.nack(m.globalPosition, errorText(error)));
  const outcome = r.outcome as NackResult["outcome"];
  return outcome === "retrying" ? { outcome, attempt: r.attempt ?? undefined, delay: r.delay ?? undefined } : { outcome };
}

/** @internal `Namespace.consume`. */
export function consume(ns: NativeNamespace, options: ConsumerOptions, handler: ConsumerHandler): ConsumerHandle {
  if (typeof handler !== "function") throw new InvalidRequestError("INVALID_REQUEST", "the handler must be a function");
  const c = nativeSync(() => ns.consumer(nativeOptions(options)));
  let stopping = false;
  const stop = () => {
    stopping = true;
    c.cancel();
    return done;
  };
  const untrack = stopOnSignals(stop);
  const run = async () => {
    let failure: unknown;
    try {
      if (!(await native(() => c.open()))) return;
      while (!stopping) {
        const m = await next(c);
        if (m === null) break;
        let failed = false;
        let error: unknown;
        try {
          await handler(m);
        } catch (e) {
          [failed, error] = [true, e];
        }
        if (!failed) await native(() => c.ack(m.globalPosition));
        else if ((await nack(c, m, error)).outcome === "stopped") break;
      }
    } catch (e) {
      failure = e;
    }
    try {
      await stopNative(c);
    } catch (e) {
      failure ??= e;
    }
    // The store closing ends a consumer; it is not a failure.
    if (failure !== undefined && !(failure instanceof ClosedError)) throw failure;
  };
  const done = run().finally(untrack);
  return { stop, info: () => info(c), done };
}

/** @internal `Namespace.consumer`. */
export function consumer(ns: NativeNamespace, options: ConsumerOptions): ConsumerIterator {
  const c = nativeSync(() => ns.consumer(nativeOptions(options)));
  const messages = (async function* (): AsyncGenerator<ConsumerMessage, void, undefined> {
    try {
      if (!(await native(() => c.open()))) return;
      for (;;) {
        const m = await next(c);
        if (m === null) return;
        // Not enumerable: the message compares and serializes as a plain Message.
        yield Object.defineProperties(m, {
          ack: { value: () => native(() => c.ack(m.globalPosition)) },
          nack: { value: (error: unknown) => nack(c, m, error) },
        }) as ConsumerMessage;
      }
    } finally {
      // Leaving the loop (break, return, throw) is a clean stop: the position is recorded.
      await stopNative(c);
    }
  })();
  return Object.assign(messages, {
    info: () => info(c),
    async stop() {
      c.cancel();
      await messages.return(undefined);
      // When the loop never started, nothing above ran.
      await stopNative(c);
    },
  });
}

/** The native identity; a bad one rejects with `InvalidRequestError`. */
function identity(ns: NativeNamespace, id: ConsumerIdentity): NativeConsumerId {
  return nativeSync(() =>
    ns.consumerId({
      category: typeof id?.category === "string" ? id.category : undefined,
      name: typeof id?.name === "string" ? id.name : undefined,
      member: num(id?.group?.member),
      size: num(id?.group?.size),
    }),
  );
}

/** @internal */
export async function consumerPosition(ns: NativeNamespace, id: ConsumerIdentity): Promise<number | null> {
  const c = identity(ns, id);
  return (await native(() => c.position())) ?? null;
}

/** @internal */
export async function setConsumerPosition(ns: NativeNamespace, id: ConsumerIdentity, position: Position): Promise<void> {
  const c = identity(ns, id);
  await native(() => c.setPosition(Number(position)));
}

/** @internal */
export async function consumerInfo(ns: NativeNamespace, id: ConsumerIdentity): Promise<ConsumerInfo> {
  return info(identity(ns, id));
}

/** @internal */
export async function parked(ns: NativeNamespace, id: ConsumerIdentity): Promise<ParkedMessage[]> {
  const c = identity(ns, id);
  return JSON.parse(await native(() => c.parked()));
}

/** @internal */
export async function replayParked(ns: NativeNamespace, id: ConsumerIdentity, handler: ConsumerHandler): Promise<ReplayResult> {
  if (typeof handler !== "function") throw new InvalidRequestError("INVALID_REQUEST", "the handler must be a function");
  const c = identity(ns, id);
  const result: ReplayResult = { replayed: 0, failed: [] };
  for (const p of JSON.parse(await native(() => c.parked())) as ParkedMessage[]) {
    const json = await native(() => c.parkedMessage(p.globalPosition));
    if (json === null || json === undefined) {
      // Its original is gone (or another replay settled it meanwhile): given up.
      await native(() => c.settleParked(p.globalPosition, false)).catch((e) => {
        if (!(e instanceof InvalidRequestError)) throw e;
      });
      continue;
    }
    try {
      await handler(toMessage(JSON.parse(json) as RawMessage));
    } catch (e) {
      result.failed.push({ parked: p, error: errorText(e) });
      continue;
    }
    await native(() => c.settleParked(p.globalPosition, true));
    result.replayed += 1;
  }
  return result;
}

/** @internal */
export async function discardParked(ns: NativeNamespace, id: ConsumerIdentity): Promise<number> {
  const c = identity(ns, id);
  return native(() => c.discardParked());
}
