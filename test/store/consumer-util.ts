// Helpers of the consumer suites (./consumers.test.ts, ./consumer-process.test.ts): the backends a
// consumer runs on (SQLite in memory, a SQLite directory, PostgreSQL), a consumer that collects what
// it handles, and waits with deadlines.
import { MessageStore, type ConsumerHandle, type ConsumerHandler, type ConsumerOptions, type Message, type Namespace } from "messagedb";
import { waitFor } from "../harness";
import { tempDir } from "./util";

export const pgUrl = process.env.MESSAGEDB_TEST_PG_URL;
if (!pgUrl && process.env.CI === "true") throw new Error("MESSAGEDB_TEST_PG_URL is not set: the PostgreSQL consumer tests cannot run");

/** A fresh, empty namespace on one backend. */
export interface ConsumerFixture {
  store: MessageStore;
  ns: Namespace;
  /** The namespace's id. */
  nsId: string;
  /** What another store (or process) opens to reach the same data; `null` for memory. */
  url: string | null;
  /** Closes every store it opened and removes what it created. */
  dispose(): Promise<void>;
}

let serial = 0;
const uniqueId = (prefix: string) => `${prefix}_${process.pid}_${Date.now()}_${serial++}`;

async function fixture(url: string, shared: boolean): Promise<ConsumerFixture> {
  const store = await MessageStore.open(url);
  // A shared database (PostgreSQL) gets a namespace per test.
  const nsId = shared ? uniqueId("consumers") : "default";
  if (shared) await store.createNamespace(nsId);
  return {
    store,
    ns: store.namespace(nsId),
    nsId,
    url: url === ":memory:" ? null : url,
    async dispose() {
      if (shared) await store.deleteNamespace(nsId).catch(() => {});
      await store.close();
    },
  };
}

/** The backends every consumer scenario runs on; PostgreSQL when MESSAGEDB_TEST_PG_URL is set. */
export const consumerBackends: Array<[string, () => Promise<ConsumerFixture>]> = [
  ["sqlite :memory:", () => fixture(":memory:", false)],
  ["sqlite directory", () => fixture(tempDir("messagedb-consumers-"), false)],
  ...(pgUrl ? [["postgres", () => fixture(pgUrl, true)] as [string, () => Promise<ConsumerFixture>]] : []),
];

/** The backends a second process can share (not memory). */
export const processBackends = consumerBackends.filter(([name]) => name !== "sqlite :memory:");

/** Waits until `cond` holds, within `timeout` ms. */
export function until(cond: () => unknown, what: string, timeout = 10_000): Promise<unknown> {
  return waitFor(async () => Boolean(await cond()), { timeout, interval: 10, message: what });
}

/** A handler-form consumer that keeps every message it handled, in order. */
export function collect(ns: Namespace, options: ConsumerOptions, handler?: ConsumerHandler) {
  const handled: Message[] = [];
  const handle: ConsumerHandle = ns.consume(options, async (m) => {
    await handler?.(m);
    handled.push(m);
  });
  return { handle, handled, positions: () => handled.map((m) => m.globalPosition) };
}

/** Writes `n` messages `{i}` (from `from`), to `stream(i)` each; returns their global positions. */
export async function writeMany(ns: Namespace, n: number, stream: (i: number) => string, from = 0): Promise<number[]> {
  const out = [];
  for (let i = from; i < from + n; i++) out.push((await ns.write(stream(i), { type: "Event", data: { i } })).globalPosition);
  return out;
}

/** `from`, `from + 1`, … (`n` numbers). */
export const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
