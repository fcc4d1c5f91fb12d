// One active instance across processes (consumers.md, "Must hold" 4) and the signal rule, with a
// consumer in a child `bun` process (./consumer-child.ts) on a SQLite directory and on PostgreSQL:
// killed with SIGKILL, an in-test standby takes over within the lease and resumes from the recorded
// position; sent SIGTERM or SIGINT, it records its position and exits by the signal.
import { afterAll, afterEach, beforeEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Namespace } from "messagedb";
import { collect, type ConsumerFixture, processBackends, range, until, writeMany } from "./consumer-util";
import { removeTempDirs, within } from "./util";

afterAll(removeTempDirs);

const LEASE = 1000;

/** A consumer child process and what it printed. */
function spawnConsumer(fx: ConsumerFixture, name: string, interval: number) {
  const child = Bun.spawn([process.execPath, join(import.meta.dir, "consumer-child.ts"), fx.url!, fx.nsId, name, String(interval), String(LEASE)], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const state = { out: "", handled: [] as number[] };
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) {
      state.out += decoder.decode(chunk, { stream: true });
      state.handled = [...state.out.matchAll(/^handled (\d+)$/gm)].map((m) => Number(m[1]));
    }
  })();
  return { child, state };
}

for (const [backend, open] of processBackends) {
  describe(`consumers across processes [${backend}]`, () => {
    let fx: ConsumerFixture;
    let ns: Namespace;
    const children: ReturnType<typeof Bun.spawn>[] = [];
    beforeEach(async () => {
      fx = await open();
      ns = fx.ns;
    });
    afterEach(async () => {
      for (const c of children.splice(0)) c.kill("SIGKILL");
      await fx.dispose();
    });

    test("(4) a killed consumer process: the standby takes over within the lease and resumes from the recorded position", async () => {
      const interval = 5;
      await writeMany(ns, 23, (i) => `account-${i % 4}`);
      const { child, state } = spawnConsumer(fx, "worker", interval);
      children.push(child);
      await until(() => state.handled.length === 23, "the child handling 23 messages", 20_000);
      // Recorded after every 5 or more (a recording is written in the background; one due while
      // another is being written records what came meanwhile): 16 or more by now, soon.
      await until(async () => Number((await ns.consumerPosition({ category: "account", name: "worker" })) ?? 0) >= 16, "the child recording 16 or more");
      const standby = collect(ns, { category: "account", name: "worker", lease: LEASE, positionUpdateInterval: interval });
      try {
        await until(async () => (await standby.handle.info()).active === false, "the standby waiting");
        expect(standby.handled).toEqual([]);
        const killed = Date.now();
        child.kill("SIGKILL");
        await until(async () => (await standby.handle.info()).active, "the standby taking over", 10_000);
        const tookOver = Date.now() - killed;
        await within(child.exited, 5000, "the child's exit");
        expect(child.signalCode).toBe("SIGKILL");
        // Within the lease: the standby's poll (a fifth of it), plus one more on PostgreSQL.
        expect(tookOver).toBeLessThan(LEASE);
        // The position the standby started after: read under its lock, nothing changes it now.
        const recorded = Number(await ns.consumerPosition({ category: "account", name: "worker" }));
        expect(recorded).toBeGreaterThanOrEqual(16);
        const unrecorded = 23 - recorded;
        await until(() => standby.handled.length === unrecorded, "the standby handling the unrecorded messages");
        const later = await writeMany(ns, 2, (i) => `account-${i % 4}`, 23);
        await until(() => standby.handled.length === unrecorded + 2, "the standby handling new messages");
        // Again: only what came after the recorded position, none skipped.
        const again = standby.positions();
        expect(again).toEqual([...range(recorded + 1, unrecorded), ...later]);
        expect(again.filter((p) => state.handled.includes(p)).length).toBe(unrecorded);
        expect([...new Set([...state.handled, ...again])].filter((p) => p <= 23).sort((a, b) => a - b)).toEqual(range(1, 23));
      } finally {
        await standby.handle.stop();
      }
    }, 60_000);

    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      test(`${signal} to a consuming process records the position, then the signal ends it`, async () => {
        await writeMany(ns, 7, (i) => `account-${i % 3}`);
        const id = { category: "account", name: `signalled_${signal}` };
        // Records only every 1000 messages (or after 10 idle minutes): only a clean stop records 7.
        const { child, state } = spawnConsumer(fx, id.name, 1000);
        children.push(child);
        await until(() => state.handled.length === 7, "the child handling 7 messages", 20_000);
        expect(await ns.consumerPosition(id)).toBeNull();
        child.kill(signal);
        await within(child.exited, 15_000, "the child's exit");
        expect([child.signalCode, child.exitCode]).toEqual([signal, null]);
        expect(await ns.consumerPosition(id)).toBe(7);
        expect(state.handled).toEqual(range(1, 7));
      }, 60_000);
    }
  });
}
