// Smoke tests of the installed package under `node --test` (ESM entry): the loader, a write, an
// error class, a subscription, the bundled server.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MessageStore, VersionConflictError, MessageDBError, InvalidRequestError, category, hash64, serve } from "messagedb";

test("the ESM entry loads the native addon", () => {
  assert.equal(category("account-1"), "account");
  assert.equal(hash64("abc"), -8070080442485551184n);
});

test("a write and a read in memory", async () => {
  const store = await MessageStore.open(":memory:");
  const ns = store.namespace("default");
  const w = await ns.write("account-1", { type: "Opened", data: { big: 9007199254740991 } }, { expectedVersion: -1 });
  assert.deepEqual(w, { position: 0, globalPosition: 1 });
  const [m] = await ns.getStream("account-1");
  assert.equal(m.type, "Opened");
  assert.deepEqual(m.data, { big: 9007199254740991 });
  assert.ok(m.time instanceof Date);
  await store.close();
});

test("errors are typed classes with codes", async () => {
  const store = await MessageStore.open(":memory:");
  const ns = store.namespace("default");
  await ns.write("account-1", { type: "Opened", data: {} });
  await assert.rejects(ns.write("account-1", { type: "Opened", data: {} }, { expectedVersion: -1 }), (e) => {
    assert.ok(e instanceof VersionConflictError && e instanceof MessageDBError);
    assert.equal(e.code, "STREAM_VERSION_CONFLICT");
    assert.equal(e.message, "Expected version -1, stream is at version 0");
    assert.deepEqual([e.expected, e.actual], [-1, 0]);
    return true;
  });
  await assert.rejects(ns.write("", { type: "T", data: {} }), InvalidRequestError);
  await store.close();
});

test("a subscription delivers history then live, and break closes it", async () => {
  const store = await MessageStore.open(":memory:");
  const ns = store.namespace("default");
  await ns.write("account-1", { type: "A", data: {} });
  const seen = [];
  const reader = (async () => {
    for await (const m of ns.subscribe({ category: "account" })) {
      seen.push(m.type);
      if (seen.length === 2) break;
    }
  })();
  await ns.write("account-2", { type: "B", data: {} });
  await reader;
  assert.deepEqual(seen, ["A", "B"]);
  await store.close();
});

test("serve() runs the server in this process", async () => {
  const server = await serve({ port: 0 });
  const response = await fetch(`${server.url}/version`);
  assert.deepEqual(await response.json(), { version: "0.7.0" });
  await server.close();
});
