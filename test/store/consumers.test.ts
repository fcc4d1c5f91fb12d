// Consumers (consumers.md, "Must hold") through the package in process, on SQLite in memory, a
// SQLite directory and PostgreSQL: restarts, consumer groups, parking and replay, one active
// instance, slow handlers. The pull form, options and signals: ./consumers-pull.test.ts; other
// processes: ./consumer-process.test.ts.
import { afterAll, afterEach, beforeEach, describe, expect, test } from "bun:test";
import { MessageStore, type Message, type Namespace } from "messagedb";
import { collect, consumerBackends, type ConsumerFixture, range, until, writeMany } from "./consumer-util";
import { removeTempDirs, within } from "./util";

afterAll(removeTempDirs);

for (const [backend, open] of consumerBackends) {
  describe(`consumers [${backend}]`, () => {
    let fx: ConsumerFixture;
    let ns: Namespace;
    beforeEach(async () => {
      fx = await open();
      ns = fx.ns;
    });
    afterEach(async () => {
      await fx.dispose();
    });

    test("(1) a restart after a clean stop handles nothing twice; the position is recorded as Eventide names it", async () => {
      await writeMany(ns, 10, (i) => `account-${i % 3}`);
      await ns.write("other-1", { type: "NotAccount", data: {} });
      const first = collect(ns, { category: "account", name: "projector" });
      await until(() => first.handled.length === 10, "10 messages handled");
      await first.handle.stop();
      await within(first.handle.done, 5000, "done after stop()");
      expect(first.positions()).toEqual(range(1, 10));
      expect(await ns.consumerPosition({ category: "account", name: "projector" })).toBe(10);
      const recorded = await ns.getLast("account:position-projector");
      expect([recorded?.type, recorded?.data]).toEqual(["Recorded", { position: 10 }]);

      const more = await writeMany(ns, 5, (i) => `account-${i % 3}`, 10);
      const second = collect(ns, { category: "account", name: "projector" });
      await until(() => second.handled.length === 5, "the 5 new messages handled");
      await second.handle.stop();
      expect(second.positions()).toEqual(more);
      expect(await ns.consumerPosition({ category: "account", name: "projector" })).toBe(more[4]);
    }, 30_000);

    if (backend !== "sqlite :memory:") {
      test("(1) after a crash (the store closed under a running consumer) only messages after the recorded position come again, none skipped", async () => {
        await writeMany(ns, 12, (i) => `account-${i % 2}`);
        const other = await MessageStore.open(fx.url!);
        try {
          const crashed = collect(other.namespace(fx.nsId), { category: "account", name: "crashy", positionUpdateInterval: 5, positionUpdateIdle: 60_000 });
          await until(() => crashed.handled.length === 12, "12 messages handled");
          // No clean stop: the store goes away, as with a crash. Recorded every 5 or more: a
          // recording is written in the background, and one due while another is being written
          // waits for it and records what came meanwhile (so 5, 10, or 11 and so on); the crash
          // may come before the last lands.
          await other.close();
          await within(crashed.handle.done, 5000, "done after the store closed");
        } finally {
          await other.close();
        }
        const recorded = Number((await ns.consumerPosition({ category: "account", name: "crashy" })) ?? 0);
        expect(recorded).toBeGreaterThanOrEqual(0);
        expect(recorded).toBeLessThanOrEqual(12);
        const again = collect(ns, { category: "account", name: "crashy" });
        await until(() => again.handled.length === 12 - recorded, "the unrecorded messages handled again");
        const late = await ns.write("account-9", { type: "Event", data: {} });
        await until(() => again.handled.length === 13 - recorded, "a new message handled");
        await again.handle.stop();
        expect(again.positions()).toEqual([...range(recorded + 1, 12 - recorded), late.globalPosition]);
      }, 30_000);
    }

    test("(2) a group of 3 handles every message once, each stream by one member, in order", async () => {
      const streams = range(0, 10).map((i) => `account-${i}`);
      await writeMany(ns, 30, (i) => streams[(i * 7) % 10]);
      const members = [0, 1, 2].map((member) => collect(ns, { category: "account", name: "grouped", group: { member, size: 3 } }));
      const all = () => members.flatMap((m) => m.handled);
      await until(() => all().length === 30, "30 messages handled by the group");
      await Promise.all(members.map((m) => m.handle.stop()));
      expect(all().map((m) => m.globalPosition).sort((a, b) => a - b)).toEqual(range(1, 30));
      const byStream = new Map<string, Set<number>>();
      for (const [member, { handled }] of members.entries()) {
        // In order: increasing global positions, and each stream's positions in sequence.
        expect(handled.map((m) => m.globalPosition)).toEqual([...handled.map((m) => m.globalPosition)].sort((a, b) => a - b));
        for (const s of streams) {
          const positions = handled.filter((m) => m.streamName === s).map((m) => m.position);
          if (positions.length > 0) expect(positions).toEqual(range(0, 3));
        }
        for (const m of handled) byStream.set(m.streamName, (byStream.get(m.streamName) ?? new Set()).add(member));
      }
      for (const s of streams) expect([s, byStream.get(s)?.size]).toEqual([s, 1]);
      expect(members.filter((m) => m.handled.length > 0).length).toBeGreaterThan(1);
      for (const member of [0, 1, 2]) {
        const last = members[member].handled.at(-1)?.globalPosition ?? null;
        expect(await ns.consumerPosition({ category: "account", name: "grouped", group: { member, size: 3 } })).toBe(last);
      }
      expect(await ns.streamVersion("account:position-grouped_0_3")).not.toBeNull();
    }, 30_000);

    test("(3) a failing message is retried, then parked with its error; the consumer goes on; replayParked hands it again", async () => {
      await writeMany(ns, 5, (i) => `account-${i}`);
      const tries: number[] = [];
      const c = collect(ns, { category: "account", name: "fragile", retry: { attempts: 2, initialDelay: 1, maxDelay: 5 } }, (m) => {
        tries.push(m.globalPosition);
        if (m.data.i === 2) throw new Error(`cannot handle ${m.streamName}`);
      });
      await until(() => c.handled.length === 4, "the 4 good messages handled");
      await until(async () => (await c.handle.info()).parked === 1, "1 parked message");
      await c.handle.stop();
      expect(c.positions()).toEqual([1, 2, 4, 5]);
      expect(tries).toEqual([1, 2, 3, 3, 3, 4, 5]);
      const [p, ...rest] = await ns.parked({ category: "account", name: "fragile" });
      expect(rest).toEqual([]);
      const original = (await ns.getStream("account-2"))[0];
      expect({ ...p, parkedAt: "" }).toEqual({
        stream: "account-2",
        position: 0,
        globalPosition: 3,
        type: "Event",
        id: original.id,
        error: "cannot handle account-2",
        attempts: 3,
        parkedAt: "",
      });
      expect(Math.abs(Date.parse(p.parkedAt) - Date.now())).toBeLessThan(60_000);
      expect(await ns.consumerPosition({ category: "account", name: "fragile" })).toBe(5);

      // A replay that fails again keeps it parked; one that succeeds settles it.
      const failed = await ns.replayParked({ category: "account", name: "fragile" }, () => Promise.reject(new Error("still broken")));
      expect(failed).toEqual({ replayed: 0, failed: [{ parked: p, error: "still broken" }] });
      const replayed: Message[] = [];
      expect(await ns.replayParked({ category: "account", name: "fragile" }, (m) => void replayed.push(m))).toEqual({ replayed: 1, failed: [] });
      expect(replayed.map((m) => [m.id, m.globalPosition, m.data])).toEqual([[original.id, 3, { i: 2 }]]);
      expect(await ns.parked({ category: "account", name: "fragile" })).toEqual([]);
      expect((await ns.consumerInfo({ category: "account", name: "fragile" })).parked).toBe(0);
    }, 30_000);

    test("(3) attempts 0 parks at once; discardParked gives parked messages up; onError 'stop' stops before the message", async () => {
      await writeMany(ns, 4, (i) => `account-${i}`);
      const id = { category: "account", name: "strict" };
      const c = collect(ns, { ...id, retry: { attempts: 0 } }, (m) => {
        if ((m.data.i as number) % 2 === 1) throw "odd";
      });
      await until(async () => (await ns.parked(id)).length === 2, "2 parked messages");
      await until(() => c.handled.length === 2, "2 handled");
      await c.handle.stop();
      expect((await ns.parked(id)).map((p) => [p.globalPosition, p.error, p.attempts])).toEqual([
        [2, "odd", 1],
        [4, "odd", 1],
      ]);
      expect(await ns.discardParked(id)).toBe(2);
      expect(await ns.parked(id)).toEqual([]);
      expect(await ns.discardParked(id)).toBe(0);
      expect(await ns.replayParked(id, () => {})).toEqual({ replayed: 0, failed: [] });

      const stopper = collect(ns, { category: "account", name: "stopper", retry: { attempts: 1, initialDelay: 1 }, onError: "stop" }, (m) => {
        if (m.data.i === 1) throw new Error("fatal");
      });
      await within(stopper.handle.done, 10_000, "the consumer stopping on its own");
      expect(stopper.positions()).toEqual([1]);
      expect(await ns.consumerPosition({ category: "account", name: "stopper" })).toBe(1);
      expect(await ns.parked({ category: "account", name: "stopper" })).toEqual([]);
      const restarted = collect(ns, { category: "account", name: "stopper" });
      await until(() => restarted.handled.length === 3, "the rest handled after a restart");
      await restarted.handle.stop();
      expect(restarted.positions()).toEqual([2, 3, 4]);
    }, 30_000);

    test("(4) two instances with one identity never both hand out; the standby takes over after stop() and resumes from the position", async () => {
      await writeMany(ns, 6, (i) => `account-${i % 2}`);
      const options = { category: "account", name: "single", lease: 250, positionUpdateInterval: 1000 };
      let inHandlers = 0;
      let overlap = false;
      const order: string[] = [];
      const watched = (who: string) => async (m: Message) => {
        inHandlers += 1;
        overlap ||= inHandlers > 1;
        order.push(`${who}${m.data.i}`);
        await new Promise((r) => setTimeout(r, 1));
        inHandlers -= 1;
      };
      const a = collect(ns, options, watched("a"));
      await until(() => a.handled.length === 6, "a handling the first 6");
      const b = collect(ns, options, watched("b"));
      await until(async () => (await b.handle.info()).active === false, "b answering as a standby");
      await writeMany(ns, 4, (i) => `account-${i % 2}`, 6);
      await until(() => a.handled.length === 10, "a handling the next 4");
      expect(b.handled).toEqual([]);
      expect((await b.handle.info()).active).toBe(false);
      expect((await a.handle.info()).active).toBe(true);
      await a.handle.stop();
      await writeMany(ns, 2, (i) => `account-${i % 2}`, 10);
      await until(() => b.handled.length === 2, "b taking over");
      expect((await b.handle.info()).active).toBe(true);
      await b.handle.stop();
      expect(overlap).toBe(false);
      expect(order).toEqual([...range(0, 10).map((i) => `a${i}`), "b10", "b11"]);

      // A standby that is stopped gives up waiting.
      const c = collect(ns, options);
      await until(async () => (await c.handle.info()).active, "c active");
      const d = collect(ns, options);
      await d.handle.stop();
      await within(d.handle.done, 5000, "the standby giving up");
      await writeMany(ns, 1, () => "account-0", 12);
      await until(() => c.handled.length === 1, "c handling the new message");
      await c.handle.stop();
      expect(d.handled).toEqual([]);
    }, 30_000);

    test("(6) a stalled handler blocks no writer; its consumer then catches up", async () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let entered = 0;
      const c = collect(ns, { category: "account", name: "slow" }, async () => {
        entered += 1;
        await gate;
      });
      await ns.write("account-0", { type: "Event", data: {} });
      await until(() => entered === 1, "the handler stalled on the first message");
      const written = await within(writeMany(ns, 300, (i) => `account-${i % 7}`, 1), 20_000, "300 writes while the handler is stalled");
      expect(written).toEqual(range(2, 300));
      const batch = await within(ns.writeBatch("account-x", [{ type: "A", data: {} }, { type: "B", data: {} }]), 5000, "a batch");
      expect(batch.lastGlobalPosition).toBe(303);
      expect([entered, c.handled.length]).toEqual([1, 0]);
      release();
      await until(() => c.handled.length === 303, "the consumer catching up", 20_000);
      await c.handle.stop();
      expect(c.positions()).toEqual(range(1, 303));
    }, 60_000);
  });
}
