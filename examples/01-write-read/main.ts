// Write a message and a batch to a stream, then read the stream back.
// Run: bun main.ts (with the npm package `messagedb` installed)
import assert from "node:assert/strict";
import { MessageStore } from "messagedb";

// [example]
// An in-memory store: nothing touches the disk, everything is gone at exit.
const store = await MessageStore.open(":memory:");
const ns = store.namespace("default");

// Expected version -1: the stream must not exist yet, so this write starts it.
const written = await ns.write("account-1", { type: "Opened", data: { owner: "ada" } }, { expectedVersion: -1 });
assert.deepEqual([written.position, written.globalPosition], [0, 1]);
console.log(`wrote position ${written.position} global ${written.globalPosition}`);

// A batch lands atomically, at contiguous positions after the last one (0).
const b = await ns.writeBatch(
  "account-1",
  [
    { type: "Deposited", data: { amount: 10 } },
    { type: "Withdrawn", data: { amount: 3 } },
  ],
  { expectedVersion: 0 },
);
assert.deepEqual([b.position, b.lastPosition], [1, 2]);
assert.deepEqual([b.globalPosition, b.lastGlobalPosition], [2, 3]);
console.log(`wrote batch positions ${b.position}..${b.lastPosition} global ${b.globalPosition}..${b.lastGlobalPosition}`);

// Positions count from 0 within the stream; global positions from 1 in the namespace.
const messages = await ns.getStream("account-1");
assert.equal(messages.length, 3);
for (const m of messages) {
  console.log(`${m.streamName} position ${m.position} global ${m.globalPosition} ${m.type} ${JSON.stringify(m.data)}`);
}

// Reading from a position returns that message and the ones after it.
const rest = await ns.getStream("account-1", { position: 1 });
const types = rest.map((m) => m.type);
assert.deepEqual(types, ["Deposited", "Withdrawn"]);
console.log(`from position 1: ${types.join(" ")}`);
// [/example]

await store.close();
