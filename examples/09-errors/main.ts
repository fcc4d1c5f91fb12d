// Topic 9 of the tutorial (examples/README.md): every error has a stable code; only a
// BACKEND_ERROR may succeed when tried again, and only when it says so.
import assert from "node:assert/strict";
import { BackendError, MessageDBError, MessageStore, errorCodes } from "messagedb";

/** Prints what a program decides on: the code (stable, unlike the message) and whether to retry. */
async function report(what: string, code: string, call: () => Promise<unknown>): Promise<void> {
  let error: unknown;
  try {
    await call();
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof MessageDBError, `${what}: no messagedb error`);
  assert.equal(error.code, code, what);
  const retry = error instanceof BackendError && error.retryable ? "yes" : "no";
  console.log(`${what}: ${error.code} retryable=${retry} ${error.message}`);
}

// [example]
const store = await MessageStore.open(":memory:");
const ns = store.namespace("default");
const messageId = "0190f5a2-1c3b-7d4e-8f60-123456789abc";
const opened = { type: "Opened", data: { owner: "ada" } };
await ns.write("account-1", opened, { id: messageId, expectedVersion: -1 });

// A refused write writes nothing: the stream is where it was.
await report("version conflict", "STREAM_VERSION_CONFLICT", () =>
  ns.write("account-1", { type: "Opened", data: { owner: "bob" } }, { expectedVersion: -1 }),
);
assert.equal(await ns.streamVersion("account-1"), 0);
console.log("account-1 is still at version 0");

// Bad input is refused before the store is touched.
const deposit = { type: "Deposited", data: { amount: 10 } };
await report("empty stream name", "INVALID_REQUEST", () => ns.write("", deposit));
const longType = { type: "T".repeat(1025), data: {} };
await report("type too long", "INVALID_REQUEST", () => ns.write("account-1", longType));

// Message ids are unique in a namespace; the second write wrote nothing either.
await report("duplicate id", "DUPLICATE_MESSAGE_ID", () => ns.write("account-2", opened, { id: messageId }));
assert.equal(await ns.streamVersion("account-2"), null);
console.log("account-2 has no messages");

const nowhere = store.namespace("nowhere");
await report("unknown namespace", "NAMESPACE_NOT_FOUND", () => nowhere.streamVersion("account-1"));

await store.close();
await report("closed store", "CLOSED", () => ns.streamVersion("account-1"));

// The whole table: each code, the HTTP status the server answers it with, and whether an
// error of that code may succeed when tried again.
console.log("error codes:");
for (const { code, status, retryable } of errorCodes()) {
  console.log(`${code} ${status} ${retryable ? "may retry" : "final"}`);
}
// [/example]
