// 1,000 concurrent writes from Promise.all keep every guarantee: distinct gapless global positions,
// gapless stream positions, and a concurrent subscription sees every message once, in order.
import { afterAll, describe, expect, test } from "bun:test";
import { MessageStore, VersionConflictError } from "messagedb";
import { removeTempDirs, take, tempDir, within } from "./util";

afterAll(removeTempDirs);

const N = 1000;
const STREAMS = 10;
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

for (const [surface, url] of [
  ["in-process :memory:", () => ":memory:"],
  ["in-process directory", () => tempDir()],
] as const) {
  describe(`concurrent writes [${surface}]`, () => {
    test(`${N} writes from Promise.all`, async () => {
      const store = await MessageStore.open(url());
      try {
        const ns = store.namespace("default");
        // The subscription runs alongside the writes (it starts on the first next()).
        const sub = ns.subscribe({ all: true });
        const seen = take(sub, N, 60_000);

        const results = await within(
          Promise.all(range(0, N).map((i) => ns.write(`account-${i % STREAMS}`, { type: "Written", data: { i } }))),
          60_000,
          `${N} concurrent writes`,
        );

        // Distinct global positions 1..N.
        expect(results.map((r) => r.globalPosition).sort((a, b) => a - b)).toEqual(range(1, N));
        // Per stream: gapless positions 0..N/STREAMS-1, in the same order as the global positions.
        for (let s = 0; s < STREAMS; s++) {
          const mine = results.filter((_, i) => i % STREAMS === s).sort((a, b) => a.position - b.position);
          expect(mine.map((r) => r.position)).toEqual(range(0, N / STREAMS));
          const g = mine.map((r) => r.globalPosition);
          expect(g).toEqual([...g].sort((a, b) => a - b));
          expect(await ns.streamVersion(`account-${s}`)).toBe(N / STREAMS - 1);
          const stored = await ns.getStream(`account-${s}`, { batchSize: -1 });
          expect(stored.map((m) => m.position)).toEqual(range(0, N / STREAMS));
        }
        // Every result names the message that was written by that call.
        const all = await ns.getCategory("", { batchSize: -1 });
        expect(all.map((m) => m.globalPosition)).toEqual(range(1, N));
        const byGlobal = new Map(all.map((m) => [m.globalPosition, m]));
        results.forEach((r, i) => {
          const m = byGlobal.get(r.globalPosition)!;
          expect([m.streamName, m.position, m.data.i]).toEqual([`account-${i % STREAMS}`, r.position, i]);
        });
        expect(new Set(all.map((m) => m.id)).size).toBe(N);

        // The subscription saw all of them, in global order, once.
        const got = await seen;
        expect(got.map((m) => m.globalPosition)).toEqual(range(1, N));
        expect(got.map((m) => m.id)).toEqual(all.map((m) => m.id));
        // ... and nothing twice afterwards: the next one is the next write.
        await ns.write("account-0", { type: "After", data: {} });
        const [next] = await take(sub, 1);
        expect([next.globalPosition, next.type]).toEqual([N + 1, "After"]);
        await within(sub.return(undefined), 5000, "closing the subscription");
      } finally {
        await store.close();
      }
    }, 120_000);

    test("concurrent writers expecting the same version: exactly one wins", async () => {
      const store = await MessageStore.open(url());
      try {
        const ns = store.namespace("default");
        const settled = await Promise.allSettled(range(0, 50).map((i) => ns.write("race-1", { type: "Claim", data: { i } }, { expectedVersion: -1 })));
        const won = settled.filter((s) => s.status === "fulfilled");
        const lost = settled.filter((s): s is PromiseRejectedResult => s.status === "rejected");
        expect(won.length).toBe(1);
        expect(lost.length).toBe(49);
        for (const l of lost) {
          expect(l.reason).toBeInstanceOf(VersionConflictError);
          expect([l.reason.expected, l.reason.actual, l.reason.message]).toEqual([-1, 0, "Expected version -1, stream is at version 0"]);
        }
        expect((won[0] as PromiseFulfilledResult<unknown>).value).toEqual({ position: 0, globalPosition: 1 });
        expect((await ns.getStream("race-1")).length).toBe(1);
      } finally {
        await store.close();
      }
    });
  });
}
