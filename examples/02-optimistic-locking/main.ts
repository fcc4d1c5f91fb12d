// Optimistic locking: write only if the stream is still at the version you read.
// Run: bun main.ts (with the npm package `messagedb` installed)
import assert from "node:assert/strict";
import { MessageStore, VersionConflictError } from "messagedb";

const store = await MessageStore.open(":memory:");
const ns = store.namespace("default");
await ns.write("account-1", { type: "Opened", data: { owner: "ada" } }, { expectedVersion: -1 });

// [example]
// Two writers read the stream's version: the position of its last message, or null for none
// (-1 is the expected version of a stream without messages).
const seenByA = (await ns.streamVersion("account-1")) ?? -1;
let seenByB = (await ns.streamVersion("account-1")) ?? -1;
assert.deepEqual([seenByA, seenByB], [0, 0]);
console.log(`writers A and B read version ${seenByA}`);

// The first to write with the version it read wins.
const a = await ns.write("account-1", { type: "Deposited", data: { amount: 10 } }, { expectedVersion: seenByA });
assert.equal(a.position, 1);
console.log(`writer A wrote position ${a.position}`);

// B's version is stale now: nothing is written, and the error says where the stream is.
const withdrawal = { type: "Withdrawn", data: { amount: 3 } };
const err = await ns.write("account-1", withdrawal, { expectedVersion: seenByB }).catch((e: unknown) => e);
assert(err instanceof VersionConflictError);
assert.deepEqual([err.code, err.expected, err.actual], ["STREAM_VERSION_CONFLICT", 0, 1]);
console.log(`writer B: ${err.code} expected ${err.expected} actual ${err.actual}`);
console.log(`writer B: ${err.message}`);

// B re-reads, decides again with what A wrote, and retries with the new version.
seenByB = (await ns.streamVersion("account-1")) ?? -1;
assert.equal(seenByB, 1);
const b = await ns.write("account-1", withdrawal, { expectedVersion: seenByB });
assert.equal(b.position, 2);
console.log(`writer B read version ${seenByB} and wrote position ${b.position}`);

// -1 means "the stream must not exist": a second Opened is refused.
const again = await ns
  .write("account-1", { type: "Opened", data: { owner: "bob" } }, { expectedVersion: -1 })
  .catch((e: unknown) => e);
assert(again instanceof VersionConflictError);
assert.deepEqual([again.expected, again.actual], [-1, 2]);
console.log(`open account-1 again: ${again.code} expected ${again.expected} actual ${again.actual}`);
// [/example]

await store.close();
