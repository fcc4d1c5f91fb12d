// Consumers under Node (the store suite runs them under Bun): the handler form, the pull form, and
// SIGTERM to a consuming Node process (the position is recorded, then the signal ends it).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MessageStore } from "messagedb";

/** Polls `cond` every 10 ms until it holds; fails past `ms`. */
async function until(cond, what, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("consume() hands every message once; a restart resumes after the position; for-await acks", { timeout: 30_000 }, async () => {
  const store = await MessageStore.open(":memory:");
  const ns = store.namespace("default");
  for (let i = 0; i < 4; i++) await ns.write(`account-${i}`, { type: "E", data: { i } });
  const seen = [];
  const handle = ns.consume({ category: "account", name: "node" }, (m) => {
    if (m.data.i === 1) throw new Error("bad one");
    seen.push(m.globalPosition);
  });
  await until(() => seen.length === 3, "3 handled");
  await until(async () => (await handle.info()).parked === 1, "1 parked");
  await handle.stop();
  await handle.done;
  assert.deepEqual(seen, [1, 3, 4]);
  assert.equal(await ns.consumerPosition({ category: "account", name: "node" }), 4);
  const [parked] = await ns.parked({ category: "account", name: "node" });
  assert.deepEqual([parked.globalPosition, parked.error, parked.attempts], [2, "bad one", 4]);

  await ns.write("account-9", { type: "E", data: {} });
  const pulled = [];
  for await (const m of ns.consumer({ category: "account", name: "node" })) {
    pulled.push(m.globalPosition);
    await m.ack();
    break;
  }
  assert.equal(pulled.length, 1);
  assert.ok(pulled[0] > 4);
  assert.equal(await ns.consumerPosition({ category: "account", name: "node" }), pulled[0]);
  await store.close();
});

test("SIGTERM to a consuming Node process records the position, then ends it", { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "messagedb-node-consumer-"));
  try {
    const store = await MessageStore.open(dir);
    const ns = store.namespace("default");
    for (let i = 0; i < 5; i++) await ns.write(`account-${i}`, { type: "E", data: {} });
    const script = `
      import { MessageStore } from "messagedb";
      const store = await MessageStore.open(${JSON.stringify(dir)});
      store.namespace("default").consume(
        { category: "account", name: "sig", positionUpdateInterval: 1000, positionUpdateIdle: 600000 },
        (m) => { process.stdout.write("handled " + m.globalPosition + "\\n"); },
      );`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve([code, signal])));
    try {
      await until(() => out.includes("handled 5\n"), "the child handling 5 messages", 20_000);
      assert.equal(await ns.consumerPosition({ category: "account", name: "sig" }), null);
      child.kill("SIGTERM");
      const deadline = new Promise((_, reject) => setTimeout(() => reject(new Error("the child did not exit")), 15_000).unref());
      assert.deepEqual(await Promise.race([exited, deadline]), [null, "SIGTERM"]);
      assert.equal(await ns.consumerPosition({ category: "account", name: "sig" }), 5);
    } finally {
      child.kill("SIGKILL");
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
