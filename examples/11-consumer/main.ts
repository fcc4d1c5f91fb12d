// Topic 11 of the tutorial (examples/README.md): a durable consumer. Its position survives a
// restart; a message that keeps failing is retried, then parked.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ConsumerHandle,
  type ConsumerInfo,
  type ConsumerOptions,
  type Message,
  MessageStore,
  type Namespace,
} from "messagedb";

/** The projection: it cannot handle a deposit whose amount is not a number. */
const project = (run: number) => (m: Message): void => {
  const ok = typeof m.data.amount === "number";
  console.log(`run ${run}: ${m.streamName} ${JSON.stringify(m.data)}${ok ? "" : " failed"}`);
  if (!ok) throw new Error("amount must be a number");
};

/** Waits, at most 10 s, until the consumer has passed the message at global `position`. */
async function caughtUp(consumer: ConsumerHandle, position: number): Promise<ConsumerInfo> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const info = await consumer.info();
    if (info.position === position) return info;
    assert.ok(Date.now() < deadline, `the consumer is at ${info.position}, not ${position}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const deposit = (ns: Namespace, stream: string, amount: unknown) =>
  ns.write(stream, { type: "Deposited", data: { amount } });
const describe = (i: ConsumerInfo) =>
  `position ${i.position ?? "none"} lag ${i.lag} handled ${i.handled} parked ${i.parked}`;

// Files, not memory: the position must outlive the store being closed.
const directory = mkdtempSync(join(tmpdir(), "messagedb-example-consumer-"));
try {
  // [example]
  const options: ConsumerOptions = {
    category: "account",
    name: "projector",
    // A failing message is tried 3 times (2 retries, 1 ms then 2 ms later), then parked.
    retry: { attempts: 2, initialDelay: 1, maxDelay: 5 },
    // Record on a clean stop (and every 100 messages), not after 1 s without messages: the
    // global positions printed here then never depend on timing.
    positionUpdateIdle: 60_000,
  };
  let store = await MessageStore.open(directory);
  let ns = store.namespace("default");
  const deposits: [string, number][] = [
    ["account-1", 10], ["account-2", 20], ["account-1", 5], ["account-3", 7], ["account-2", 1],
  ];
  for (const [stream, amount] of deposits) await deposit(ns, stream, amount);

  let consumer = ns.consume(options, project(1));
  let info = await caughtUp(consumer, 5);
  assert.deepEqual([info.lag, info.handled], [0, 5]);
  console.log(`run 1: ${describe(info)}`);
  // A clean stop records the position, in the stream account:position-projector.
  await consumer.stop();
  await store.close();

  // A restart: the store knows where the consumer stopped, and how far behind it is.
  store = await MessageStore.open(directory);
  ns = store.namespace("default");
  await deposit(ns, "account-1", 3);
  await deposit(ns, "account-3", 4);
  await deposit(ns, "account-2", "ten");
  info = await ns.consumerInfo({ category: "account", name: "projector" });
  assert.deepEqual([info.position, info.lag], [5, 3]);
  console.log(`restarted: ${describe(info)}`);

  // It resumes after its position. Global positions count every message of the namespace,
  // the position records too: the last deposit is at 9.
  consumer = ns.consume(options, project(2));
  info = await caughtUp(consumer, 9);
  assert.deepEqual([info.handled, info.parked], [2, 1]);
  console.log(`run 2: ${describe(info)}`);
  await consumer.stop();

  // Parked messages wait for a fix: replayParked hands them to a handler again.
  for (const p of await ns.parked({ category: "account", name: "projector" })) {
    assert.equal(p.error, "amount must be a number");
    console.log(`parked: ${p.stream} position ${p.position} after ${p.attempts} tries`);
  }
  await store.close();
  // [/example]
} finally {
  rmSync(directory, { recursive: true, force: true });
}
