// Consumers in pull form (`for await … of ns.consumer()`, ack / nack), progress, start options and
// rewinds, on every backend; then the options' validation and the signal listeners, once.
import { afterAll, afterEach, beforeEach, describe, expect, test } from "bun:test";
import { InvalidRequestError, MessageStore, type ConsumerMessage, type Namespace } from "messagedb";
import { collect, consumerBackends, type ConsumerFixture, range, until, writeMany } from "./consumer-util";
import { expectRejects } from "./expect";
import { removeTempDirs, within } from "./util";

afterAll(removeTempDirs);

for (const [backend, open] of consumerBackends) {
  describe(`consumers, pull form [${backend}]`, () => {
    let fx: ConsumerFixture;
    let ns: Namespace;
    beforeEach(async () => {
      fx = await open();
      ns = fx.ns;
    });
    afterEach(async () => {
      await fx.dispose();
    });

    test("leaving a for-await loop records the position; the next loop resumes after it", async () => {
      await writeMany(ns, 5, (i) => `account-${i}`);
      const id = { category: "account", name: "puller" };
      const seen: number[] = [];
      await within(
        (async () => {
          for await (const m of ns.consumer({ ...id, positionUpdateInterval: 100 })) {
            seen.push(m.globalPosition);
            await m.ack();
            if (seen.length === 3) break;
          }
        })(),
        10_000,
        "the first loop",
      );
      expect(seen).toEqual([1, 2, 3]);
      expect(await ns.consumerPosition(id)).toBe(3);
      // Leaving by a throw records too; an unacknowledged message comes again.
      const again: ConsumerMessage[] = [];
      const thrown = await within(
        (async () => {
          try {
            for await (const m of ns.consumer(id)) {
              again.push(m);
              if (again.length === 1) await m.ack();
              else throw new Error("leaving");
            }
          } catch (e) {
            return (e as Error).message;
          }
        })(),
        10_000,
        "the second loop",
      );
      expect([thrown, again.map((m) => m.globalPosition)]).toEqual(["leaving", [4, 5]]);
      expect(await ns.consumerPosition(id)).toBe(4);
      // A message serializes as a plain message.
      expect(Object.keys(again[0]).sort()).toEqual(["data", "globalPosition", "id", "metadata", "position", "streamName", "time", "type"]);
    }, 30_000);

    test("nack: retrying with its attempt and delay, then parked; asking for the next message before acknowledging is refused", async () => {
      await writeMany(ns, 2, (i) => `account-${i}`);
      const consumer = ns.consumer({ category: "account", name: "nacker", retry: { attempts: 2, initialDelay: 5, maxDelay: 8 } });
      try {
        const outcomes: unknown[] = [];
        const first = (await within(consumer.next(), 10_000, "the first message")).value as ConsumerMessage;
        for (let i = 0; i < 3; i++) {
          const m = i === 0 ? first : ((await within(consumer.next(), 10_000, "the retried message")).value as ConsumerMessage);
          expect(m.globalPosition).toBe(1);
          outcomes.push(await m.nack(new Error(`try ${i}`)));
        }
        expect(outcomes).toEqual([
          { outcome: "retrying", attempt: 1, delay: 5 },
          { outcome: "retrying", attempt: 2, delay: 8 },
          { outcome: "parked" },
        ]);
        const second = (await within(consumer.next(), 10_000, "the second message")).value as ConsumerMessage;
        expect(second.globalPosition).toBe(2);
        await expectRejects(
          consumer.next(),
          InvalidRequestError,
          "INVALID_REQUEST",
          "the message at global position 2 was not acknowledged",
        );
      } finally {
        await within(consumer.stop(), 5000, "stop()");
      }
      const parked = await ns.parked({ category: "account", name: "nacker" });
      expect(parked.map((p) => [p.globalPosition, p.error, p.attempts])).toEqual([[1, "try 2", 3]]);
      expect(await ns.consumerPosition({ category: "account", name: "nacker" })).toBe(1);
    }, 30_000);

    test("info(): position, head, lag, handled, parked, active; consumerInfo from outside", async () => {
      await writeMany(ns, 4, (i) => `account-${i}`);
      await ns.write("other-1", { type: "Event", data: {} });
      const id = { category: "account", name: "progress" };
      expect(await ns.consumerInfo(id)).toEqual({ position: null, head: 5, lag: 4, handled: 0, parked: 0, active: false });
      const c = collect(ns, { ...id, retry: { attempts: 0 }, positionUpdateIdle: 60_000 }, (m) => {
        if (m.data.i === 3) throw new Error("no");
      });
      await until(async () => (await c.handle.info()).parked === 1, "the last message parked");
      // The consumer waits for messages; its answer counts from what it acknowledged.
      const running = await c.handle.info();
      expect({ ...running, head: 0 }).toEqual({ position: 4, head: 0, lag: 0, handled: 3, parked: 1, active: true });
      expect(running.head).toBeGreaterThanOrEqual(6);
      await c.handle.stop();
      const outside = await ns.consumerInfo(id);
      expect({ ...outside, head: 0 }).toEqual({ position: 4, head: 0, lag: 0, handled: 0, parked: 1, active: false });
      expect((await c.handle.info()).active).toBe(false);
    }, 30_000);

    test("start: 'end' and a global position when nothing is recorded; setConsumerPosition rewinds", async () => {
      await writeMany(ns, 4, (i) => `account-${i}`);
      const fromEnd = collect(ns, { category: "account", name: "late", start: "end" });
      await until(async () => (await fromEnd.handle.info()).active, "the consumer opened");
      const [fifth] = await writeMany(ns, 1, () => "account-9", 4);
      await until(() => fromEnd.handled.length === 1, "the new message handled");
      await fromEnd.handle.stop();
      expect(fromEnd.positions()).toEqual([fifth]);

      const at3 = collect(ns, { category: "account", name: "at3", start: 3 });
      await until(() => at3.handled.length === 3, "3 handled");
      await at3.handle.stop();
      expect(at3.positions()).toEqual([3, 4, fifth]);

      await ns.setConsumerPosition({ category: "account", name: "at3" }, 1n);
      expect(await ns.consumerPosition({ category: "account", name: "at3" })).toBe(1);
      const rewound = collect(ns, { category: "account", name: "at3", start: "end" });
      await until(() => rewound.handled.length === 4, "4 handled after the rewind");
      await rewound.handle.stop();
      expect(rewound.positions()).toEqual([2, 3, 4, fifth]);
    }, 30_000);

    test("a whole-namespace consumer skips the consumers' own streams; correlation filters", async () => {
      await ns.write("account-1", { type: "A", data: {} });
      await ns.write("order-1", { type: "B", data: {}, metadata: { correlationStreamName: "saga-7" } });
      const audit = collect(ns, { category: "", name: "audit" });
      await until(() => audit.handled.length === 2, "2 handled");
      await audit.handle.stop();
      await ns.write("user-1", { type: "C", data: {} });
      const again = collect(ns, { category: "", name: "audit" });
      await until(() => again.handled.length === 1, "the new message handled");
      await again.handle.stop();
      expect([...audit.handled, ...again.handled].map((m) => m.streamName)).toEqual(["account-1", "order-1", "user-1"]);
      expect(await ns.streamVersion("$all:position-audit")).not.toBeNull();

      const correlated = collect(ns, { category: "order", name: "saga", correlation: "saga" });
      await until(() => correlated.handled.length === 1, "the correlated message handled");
      await correlated.handle.stop();
      expect(correlated.handled.map((m) => m.streamName)).toEqual(["order-1"]);
    }, 30_000);

    test("stop() of a standby iterator gives up waiting; closing the store ends a running consumer", async () => {
      await writeMany(ns, 3, (i) => `account-${i}`);
      const active = collect(ns, { category: "account", name: "closing", lease: 200 });
      await until(() => active.handled.length === 3, "3 handled");
      const standby = ns.consumer({ category: "account", name: "closing", lease: 200 });
      const waiting = standby.next();
      expect((await standby.info()).active).toBe(false);
      await within(standby.stop(), 5000, "stopping the standby");
      expect(await within(waiting, 5000, "the standby's next()")).toEqual({ value: undefined, done: true });
      await fx.store.close();
      await within(active.handle.done, 5000, "done once the store closed");
      expect(active.positions()).toEqual(range(1, 3));
    }, 30_000);
  });
}

describe("consumer options and signals", () => {
  test("bad identities and options are InvalidRequestError", async () => {
    const store = await MessageStore.open(":memory:");
    try {
      const ns = store.namespace("default");
      const bad: Array<[() => unknown, string]> = [
        [() => ns.consume({ category: "account-1", name: "n" }, () => {}), "a consumer reads a category, and 'account-1' is a stream name"],
        [() => ns.consume({ category: "account", name: "a b" }, () => {}), "consumer name must be 1-128 characters of A-Z, a-z, 0-9, '_', '.' and '-'"],
        [() => ns.consumer({ category: "account", name: "" }), "consumer name must be a non-empty string"],
        [() => ns.consume({ name: "n" } as never, () => {}), 'options.category must be a string ("" for the whole namespace)'],
        [() => ns.consume({ category: "account", name: "n", start: "middle" as never }, () => {}), 'options.start must be "beginning", "end" or a global position'],
        [() => ns.consume({ category: "account", name: "n", onError: "explode" as never }, () => {}), 'options.onError must be "park" or "stop"'],
        [() => ns.consume({ category: "account", name: "n", retry: { attempts: -1 } }, () => {}), "options.retry.attempts must be a non-negative integer"],
        [() => ns.consume({ category: "account", name: "n", lease: Number.NaN }, () => {}), "options.lease must be a non-negative number of milliseconds"],
        [() => ns.consume({ category: "account", name: "n", group: { member: 3, size: 3 } }, () => {}), "options.consumerGroup.member must be < size"],
        [() => ns.consume({ category: "account", name: "n" }, "not a function" as never), "the handler must be a function"],
      ];
      for (const [call, message] of bad) await expectRejects((async () => call())(), InvalidRequestError, "INVALID_REQUEST", message);
      await expectRejects(ns.consumerPosition({ category: "account", name: "" }), InvalidRequestError, "INVALID_REQUEST", "consumer name must be a non-empty string");
      await expectRejects(
        ns.setConsumerPosition({ category: "account", name: "n" }, -1),
        InvalidRequestError,
        "INVALID_REQUEST",
        "a consumer position must be >= 0",
      );
    } finally {
      await store.close();
    }
  });

  test("SIGINT/SIGTERM listeners exist only while a handler-form consumer runs, and never beside the application's own", async () => {
    const store = await MessageStore.open(":memory:");
    const count = () => [process.listenerCount("SIGINT"), process.listenerCount("SIGTERM")];
    const before = count();
    try {
      const ns = store.namespace("default");
      const a = ns.consume({ category: "account", name: "a" }, () => {});
      const b = ns.consume({ category: "account", name: "b" }, () => {});
      expect(count()).toEqual([before[0] + 1, before[1] + 1]);
      await a.stop();
      expect(count()).toEqual([before[0] + 1, before[1] + 1]);
      await b.stop();
      expect(count()).toEqual(before);
      const mine = () => {};
      process.on("SIGTERM", mine);
      try {
        const c = ns.consume({ category: "account", name: "c" }, () => {});
        expect(count()).toEqual([before[0] + 1, before[1] + 1]);
        expect(process.listeners("SIGTERM").includes(mine)).toBe(true);
        await c.stop();
      } finally {
        process.removeListener("SIGTERM", mine);
      }
      expect(count()).toEqual(before);
    } finally {
      await store.close();
    }
  });
});
