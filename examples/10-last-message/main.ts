// Topic 10 of the tutorial (examples/README.md): the last message of a stream, the last of a
// type, and a stream's version.
import assert from "node:assert/strict";
import { type Message, MessageStore } from "messagedb";

/** A message (or its absence) as one line, the same in the three languages. */
function describe(m: Message | null): string {
  if (m === null) return "none";
  return `${m.streamName} position ${m.position} global ${m.globalPosition} ${m.type} ${JSON.stringify(m.data)}`;
}

// [example]
const store = await MessageStore.open(":memory:");
const ns = store.namespace("default");
await ns.writeBatch(
  "account-1",
  [
    { type: "Opened", data: { owner: "ada" } },
    { type: "Deposited", data: { amount: 10 } },
    { type: "Withdrawn", data: { amount: 3 } },
    { type: "Deposited", data: { amount: 5 } },
  ],
  { expectedVersion: -1 },
);

// The latest message, without reading the stream from its start.
const last = await ns.getLast("account-1");
assert.equal(last?.position, 3);
console.log(`last: ${describe(last)}`);

// The latest of one type: e.g. the last snapshot, or the last withdrawal.
const withdrawn = await ns.getLast("account-1", { type: "Withdrawn" });
assert.equal(withdrawn?.position, 2);
console.log(`last Withdrawn: ${describe(withdrawn)}`);

// No message of that type, or no such stream: null, not an error.
const closed = await ns.getLast("account-1", { type: "Closed" });
assert.equal(closed, null);
console.log(`last Closed: ${describe(closed)}`);
const missing = await ns.getLast("account-2");
assert.equal(missing, null);
console.log(`last of account-2: ${describe(missing)}`);

// The version is the position of the last message (null for an empty stream): what the next
// write expects, so that it lands only if nobody wrote in between.
const version = await ns.streamVersion("account-1");
assert.equal(version, 3);
console.log(`version of account-1: ${version}`);
assert.equal(await ns.streamVersion("account-2"), null);
console.log("version of account-2: none");

const close = { type: "Closed", data: { reason: "moved" } };
const written = await ns.write("account-1", close, { expectedVersion: version });
assert.equal(written.position, 4);
console.log(`wrote Closed at position ${written.position}`);
console.log(`last Closed: ${describe(await ns.getLast("account-1", { type: "Closed" }))}`);
await store.close();
// [/example]
