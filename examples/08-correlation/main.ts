// Correlation: a process that sends a command to another component names its own stream in the
// command's `metadata.correlationStreamName`. The component carries that metadata over to the
// events it writes, so the process reads the component's category filtered by correlation and
// gets only the events that answer its own category.
//
// bun examples/08-correlation/main.ts
import assert from "node:assert/strict";
import { MessageStore } from "messagedb";

const store = await MessageStore.open(":memory:");
const ns = store.namespace("default");

// [example]
// An order and a subscription each send a Charge command to the payment component, with
// their own stream as the correlation.
const requests: [string, string, number][] = [
  ["order-1", "payment:command-1", 50],
  ["subscription-7", "payment:command-2", 9],
];
for (const [origin, stream, amount] of requests) {
  const metadata = { correlationStreamName: origin };
  await ns.write(stream, { type: "Charge", data: { amount }, metadata });
  console.log(`${origin} sent Charge to ${stream} with metadata ${JSON.stringify(metadata)}`);
}

// The payment component handles each command and writes the outcome to its own stream,
// keeping the correlation and naming the command that caused it.
for (const command of await ns.getCategory("payment:command")) {
  const metadata = {
    causationMessageStreamName: command.streamName,
    correlationStreamName: command.metadata?.correlationStreamName,
  };
  const payment = command.streamName.replace("payment:command-", "payment-");
  await ns.write(payment, { type: "Charged", data: command.data, metadata });
  console.log(`payment wrote Charged to ${payment}`);
}

// The order process reads the payment category (`payment:command` is another category) and
// keeps only the messages correlated with the `order` category.
const payments = await ns.getCategory("payment");
const replies = await ns.getCategory("payment", { correlation: "order" });
assert.deepEqual([payments.length, replies.length], [2, 1]);
console.log(`category payment: ${payments.length} messages`);
console.log(`correlated with order: ${replies.length}`);
// The metadata comes back as it was written.
const [m] = replies;
const written = { causationMessageStreamName: "payment:command-1", correlationStreamName: "order-1" };
assert.deepEqual([m.streamName, m.metadata], ["payment-1", written]);
console.log(`${m.streamName} ${m.type} ${JSON.stringify(m.data)} metadata ${JSON.stringify(m.metadata)}`);

// The filter takes a category: a stream name matches nothing.
const byStream = await ns.getCategory("payment", { correlation: "order-1" });
assert.equal(byStream.length, 0);
console.log(`correlated with order-1: ${byStream.length}`);
// [/example]

await store.close();
