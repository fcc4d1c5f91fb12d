// The CommonJS entry of the installed package loads the same module.
const { test } = require("node:test");
const assert = require("node:assert/strict");
const messagedb = require("messagedb");

test("the CommonJS entry loads and works", async () => {
  const store = await messagedb.MessageStore.open(":memory:");
  const w = await store.namespace("default").write("s-1", { type: "T", data: {} });
  assert.equal(w.globalPosition, 1);
  assert.equal(typeof messagedb.serve, "function");
  await store.close();
});
