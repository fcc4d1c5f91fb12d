// Category reads: every stream of a category, in global order, page by page.
// Run: bun main.ts (with the npm package `messagedb` installed)
import assert from "node:assert/strict";
import { type Message, MessageStore, category } from "messagedb";

const store = await MessageStore.open(":memory:");
const ns = store.namespace("default");

// [example]
// The category of a stream is its name up to the first `-`: these are three accounts and
// one transfer, written in this order.
const writes: [string, string, Record<string, unknown>][] = [
  ["account-1", "Opened", { owner: "ada" }],
  ["account-2", "Opened", { owner: "bob" }],
  ["transfer-1", "Started", { amount: 5 }],
  ["account-1", "Deposited", { amount: 10 }],
  ["account-3", "Opened", { owner: "cy" }],
  ["account-2", "Deposited", { amount: 7 }],
];
for (const [stream, type, data] of writes) {
  await ns.write(stream, { type, data });
}

// One read returns the messages of every account stream, in the order they were written.
const all = await ns.getCategory("account");
assert.deepEqual(
  all.map((m) => m.globalPosition),
  [1, 2, 4, 5, 6],
);
for (const m of all) {
  assert.equal(category(m.streamName), "account");
  console.log(`global ${m.globalPosition} ${m.streamName} position ${m.position} ${m.type}`);
}

// Page through it: the next page starts after the last global position seen (3 belongs to
// another category, so counting messages would not give the next position).
let next = 1;
const seen: Message[] = [];
for (;;) {
  const page = await ns.getCategory("account", { position: next, batchSize: 2 });
  const last = page.at(-1);
  if (last === undefined) {
    console.log(`page from ${next}: empty, done`);
    break;
  }
  console.log(`page from ${next}: ${page.map((m) => m.globalPosition).join(" ")}`);
  next = last.globalPosition + 1;
  seen.push(...page);
}
assert.deepEqual(seen, all);
// [/example]

await store.close();
