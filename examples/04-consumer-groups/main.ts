// Consumer groups: split a category between members; each stream goes to exactly one member.
// Run: bun main.ts (with the npm package `messagedb` installed)
import assert from "node:assert/strict";
import { type Message, MessageStore, cardinalId, consumerGroupMember } from "messagedb";

const store = await MessageStore.open(":memory:");
const ns = store.namespace("default");
const writes: [string, string][] = [
  ["account-1", "Opened"],
  ["account-2", "Opened"],
  ["account-3", "Opened"],
  ["account-4", "Opened"],
  ["account-1", "Deposited"],
  ["account-1+audit", "Reviewed"],
  ["account-2", "Deposited"],
];
for (const [stream, type] of writes) {
  await ns.write(stream, { type, data: {} });
}

// [example]
// Each member of a group of 2 reads the same category with its member number.
const size = 2;
const memberOf = new Map<string, number>(); // stream -> member
const read: Message[] = [];
for (let member = 0; member < size; member++) {
  for (const m of await ns.getCategory("account", { consumerGroup: { member, size } })) {
    console.log(`member ${member}: global ${m.globalPosition} ${m.streamName} ${m.type}`);
    // The rule: member = abs(hash_64(cardinal id) % size), where hash_64 is the first 8
    // bytes of an MD5 and the cardinal id is the stream's id up to any `+`.
    assert.equal(consumerGroupMember(m.streamName, size), member);
    const first = memberOf.get(m.streamName) ?? member;
    assert.equal(first, member, "a stream is read by one member only");
    memberOf.set(m.streamName, member);
    read.push(m);
  }
}

// `account-1+audit` has the cardinal id of `account-1`, so the same member reads both.
assert.equal(cardinalId("account-1+audit"), "1");
assert.equal(memberOf.get("account-1+audit"), memberOf.get("account-1"));
console.log(`account-1+audit goes with account-1: member ${memberOf.get("account-1")}`);

// Together the members read the whole category, each message once. (A stream without an
// id, named just `account`, would belong to no member.)
read.sort((a, b) => a.globalPosition - b.globalPosition);
const whole = await ns.getCategory("account");
assert.deepEqual(read, whole);
console.log(`${size} members read all ${whole.length} messages`);
// [/example]

await store.close();
