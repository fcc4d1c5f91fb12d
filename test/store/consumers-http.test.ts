// Consumers over HTTP (consumers.md, "Over HTTP" and "Must hold" 1, 2, 4, 6): the `messagedb`
// server binary on a SQLite directory and on PostgreSQL, consumed through ./http-client.ts
// (`/subscribe?…&name=` + `consumer.ack`), beside the in-process ones of ./consumers.test.ts. Also
// the interop: the package's in-process consumer and an HTTP consumer share a position, a name's
// lock and parked messages; `consumer.list` and `/metrics` report the lag.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { InvalidRequestError, MessageStore, type Namespace } from "messagedb";
import { call, cleanupAfterAll, makeToken, type Server, startServer, tempDir, uniq, within } from "../harness";
import { collect, pgUrl, range, until } from "./consumer-util";
import { expectRejects } from "./expect";
import { take } from "./util";
import { type HttpConsumerListing, HttpNamespace } from "./http-client";
import type { ConsumerHandler, ConsumerIdentity, Message, NamespaceLike } from "./types";

cleanupAfterAll();

/** The server's `--db-url` per backend (PostgreSQL: one database, a namespace per test). */
const backends: Array<[string, () => string]> = [
  ["sqlite directory", () => `sqlite://${tempDir("messagedb-consumers-http-")}`],
  ...(pgUrl ? [["postgres", () => pgUrl] as [string, () => string]] : []),
];

/** A server on `dbUrl` with a fresh namespace; restartable (same store, same tokens). */
class ServerFixture {
  server!: Server;
  ns!: HttpNamespace;
  readonly nsId = uniq("consumers_http_");
  private nsToken?: string;
  private readonly adminToken = makeToken("default");
  private readonly apps: MessageStore[] = [];

  constructor(readonly dbUrl: string) {}

  async start() {
    this.server = await startServer({ testMode: false, args: ["--db-url", this.dbUrl, "--token", this.adminToken] });
    this.nsToken ??= (await call(this.server.url, this.adminToken, "ns.create", this.nsId)).token;
    this.ns = new HttpNamespace(this.server.url, this.nsToken!);
  }

  /** Stops the server with `signal` (asserting how it ended), then starts it again. */
  async restart(signal: "SIGTERM" | "SIGKILL") {
    const exit = await this.server.stop(signal);
    expect([exit.code, exit.killedBy]).toEqual(signal === "SIGKILL" ? [null, "SIGKILL"] : [0, null]);
    await this.start();
  }

  /** The namespace in process, through the package, on the server's store. */
  async app(): Promise<Namespace> {
    const store = await MessageStore.open(this.dbUrl);
    this.apps.push(store);
    return store.namespace(this.nsId);
  }

  async metrics(): Promise<string> {
    const res = await fetch(`${this.server.url}/metrics`);
    expect(res.status).toBe(200);
    return res.text();
  }

  async dispose() {
    for (const s of this.apps.splice(0)) await s.close();
    await call(this.server.url, this.adminToken, "ns.delete", this.nsId).catch(() => {});
    await this.server.stop("SIGKILL");
  }
}

/** An HTTP consumer that keeps every message it handled, in order; `ended` is how it ended (the
 * error, or undefined), so that a consumer ended by its server's death is no unhandled rejection. */
function collectHttp(ns: HttpNamespace, id: ConsumerIdentity, handler?: ConsumerHandler) {
  const handled: Message[] = [];
  const handle = ns.consume(id, async (m) => {
    await handler?.(m);
    handled.push(m);
  });
  const ended: Promise<unknown> = handle.done.then(
    () => undefined,
    (e) => e,
  );
  return { handle, handled, ended, positions: () => handled.map((m) => m.globalPosition) };
}

/** Writes `n` messages `{i}` (from `from`), to `stream(i)` each; returns their global positions. */
async function writeMany(ns: NamespaceLike, n: number, stream: (i: number) => string, from = 0): Promise<number[]> {
  const out = [];
  for (let i = from; i < from + n; i++) out.push((await ns.write(stream(i), { type: "Event", data: { i } })).globalPosition);
  return out;
}

/** The value of `metric{…labels…}` in a Prometheus text page, or undefined. */
function metricValue(page: string, metric: string, labels: Record<string, string>): number | undefined {
  for (const line of page.split("\n")) {
    const m = line.match(/^(\w+)\{(.*)\} (\S+)$/);
    if (!m || m[1] !== metric) continue;
    const have = Object.fromEntries([...m[2].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/** A gauge without labels. */
function gauge(page: string, metric: string): number | undefined {
  const line = page.split("\n").find((l) => l.startsWith(`${metric} `));
  return line === undefined ? undefined : Number(line.slice(metric.length + 1));
}

const account = { category: "account" };

for (const [backend, dbUrl] of backends) {
  describe(`consumers over HTTP [${backend}]`, () => {
    let fx: ServerFixture;
    beforeEach(async () => {
      fx = new ServerFixture(dbUrl());
      await fx.start();
    });
    afterEach(() => fx.dispose());

    test("(1) restart after a clean stop (of the consumer, then of the server) handles nothing twice", async () => {
      const id = { ...account, name: "projector" };
      await writeMany(fx.ns, 10, (i) => `account-${i % 3}`);
      await fx.ns.write("other-1", { type: "NotAccount", data: {} });
      const first = collectHttp(fx.ns, id);
      await until(() => first.handled.length === 10, "10 messages handled");
      await within(first.handle.stop(), 5000, "stop()");
      expect(first.positions()).toEqual(range(1, 10));
      await until(async () => (await fx.ns.consumerPosition(id)) === 10, "the position showing the last acknowledged");
      expect(await first.handle.info()).toEqual({ position: 10, handled: 10, active: false });

      const more = await writeMany(fx.ns, 5, (i) => `account-${i % 3}`, 10);
      const second = collectHttp(fx.ns, id);
      await until(() => second.handled.length === 5, "the 5 new messages handled");
      await within(second.handle.stop(), 5000, "stop()");
      expect(second.positions()).toEqual(more);

      // A clean stop of the server records what was acknowledged (SIGTERM, at once: before the idle second).
      await fx.restart("SIGTERM");
      expect(await fx.ns.consumerPosition(id)).toBe(more[4]);
      const recorded = await fx.ns.getLast("account:position-projector");
      expect([recorded?.type, recorded?.data]).toEqual(["Recorded", { position: more[4] }]);
      const late = await writeMany(fx.ns, 2, (i) => `account-${i % 3}`, 15);
      const third = collectHttp(fx.ns, id);
      await until(() => third.handled.length === 2, "the 2 messages written after the restart");
      await within(third.handle.stop(), 5000, "stop()");
      expect(third.positions()).toEqual(late);
    }, 30_000);

    test("(1) after the server is killed (SIGKILL) only messages after the recorded position come again, none skipped", async () => {
      const id = { ...account, name: "crashy" };
      const all = await writeMany(fx.ns, 130, (i) => `account-${i % 4}`);
      const first = collectHttp(fx.ns, id);
      await until(() => first.handled.length === 130, "130 messages handled", 20_000);
      // The server records after every 100 acknowledgements (in the background), so 100 is on
      // disk before long; the 30 after it only after an idle second: the kill comes first.
      const app = await fx.app();
      await until(async () => ((await app.consumerPosition(id)) ?? 0) >= 100, "100 recorded");
      await fx.restart("SIGKILL");
      // The killed server ended the subscription (cleanly or with a connection error).
      await within(first.ended, 5000, "the first consumer ending with its server");
      const recorded = (await fx.ns.consumerPosition(id))!;
      expect(recorded).toBe((await app.consumerPosition(id))!);
      expect(recorded).toBeGreaterThanOrEqual(100);
      expect(recorded).toBeLessThanOrEqual(130);

      const again = collectHttp(fx.ns, id);
      await until(() => again.handled.length === 130 - recorded, "the unrecorded messages handled again");
      const later = await writeMany(fx.ns, 2, (i) => `account-${i % 4}`, 130);
      await until(() => again.handled.length === 130 - recorded + 2, "new messages handled");
      await within(again.handle.stop(), 5000, "stop()");
      expect(again.positions()).toEqual([...range(recorded + 1, 130 - recorded), ...later]);
      // At most interval - 1 (99) handed twice, none skipped.
      expect(again.positions().filter((p) => first.positions().includes(p)).length).toBeLessThanOrEqual(99);
      expect([...new Set([...first.positions(), ...again.positions()])].sort((a, b) => a - b)).toEqual([...all, ...later]);
    }, 60_000);

    test("(2) a group of 3 over HTTP handles every message once, each stream by one member, in order", async () => {
      const streams = range(0, 10).map((i) => `account-${i}`);
      await writeMany(fx.ns, 30, (i) => streams[(i * 7) % 10]);
      const members = [0, 1, 2].map((member) => collectHttp(fx.ns, { ...account, name: "grouped", group: { member, size: 3 } }));
      const handled = () => members.flatMap((m) => m.handled);
      await until(() => handled().length === 30, "30 messages handled by the group");
      // Live messages too, after the history.
      await writeMany(fx.ns, 6, (i) => streams[i % 10], 30);
      await until(() => handled().length === 36, "36 messages handled by the group");
      await Promise.all(members.map((m) => within(m.handle.stop(), 5000, "stop()")));
      expect(handled().map((m) => m.globalPosition).sort((a, b) => a - b)).toEqual(range(1, 36));
      const owners = new Map<string, Set<number>>();
      for (const [member, { handled }] of members.entries()) {
        const positions = handled.map((m) => m.globalPosition);
        expect(positions).toEqual([...positions].sort((a, b) => a - b));
        for (const s of streams) {
          const inStream = handled.filter((m) => m.streamName === s).map((m) => m.position);
          if (inStream.length > 0) expect([s, inStream]).toEqual([s, range(0, inStream.length)]);
        }
        for (const m of handled) owners.set(m.streamName, (owners.get(m.streamName) ?? new Set()).add(member));
      }
      for (const s of streams) expect([s, owners.get(s)?.size]).toEqual([s, 1]);
      expect(members.filter((m) => m.handled.length > 0).length).toBeGreaterThan(1);
      for (const member of [0, 1, 2]) {
        const last = members[member].handled.at(-1)?.globalPosition ?? null;
        expect(await fx.ns.consumerPosition({ ...account, name: "grouped", group: { member, size: 3 } })).toBe(last);
      }
      // Each member has a position of its own; the name without a group has none.
      expect(await fx.ns.consumerPosition({ ...account, name: "grouped" })).toBeNull();
    }, 30_000);

    test("(4) two HTTP consumers with one name: the second gets nothing while the first is connected, then takes over within 5 s after it", async () => {
      const id = { ...account, name: "single" };
      await writeMany(fx.ns, 6, (i) => `account-${i % 2}`);
      const a = collectHttp(fx.ns, id);
      await until(() => a.handled.length === 6, "a handling the first 6");
      await until(async () => (await a.handle.info()).active, "a active");
      const b = collectHttp(fx.ns, id);
      // b's request is at the server (2 open subscriptions): from here on it is a standby.
      await until(async () => gauge(await fx.metrics(), "messagedb_open_subscriptions") === 2, "b connected");
      await writeMany(fx.ns, 4, (i) => `account-${i % 2}`, 6);
      await until(() => a.handled.length === 10, "a handling the next 4");
      expect(b.handled).toEqual([]);
      expect((await b.handle.info()).active).toBe(false);

      await within(a.handle.stop(), 5000, "a's stop()");
      const stopped = Date.now();
      await until(async () => (await b.handle.info()).active, "b taking over", 5000);
      expect(Date.now() - stopped).toBeLessThan(5000);
      const more = await writeMany(fx.ns, 2, (i) => `account-${i % 2}`, 10);
      await until(() => b.handled.length === 2, "b handling the new messages");
      await within(b.handle.stop(), 5000, "b's stop()");
      // b resumes after a's last acknowledged position: nothing twice, nothing skipped.
      expect(a.positions()).toEqual(range(1, 10));
      expect(b.positions()).toEqual(more);
    }, 30_000);

    test("(6) a stalled HTTP handler blocks no writer; its consumer then catches up", async () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let entered = 0;
      const c = collectHttp(fx.ns, { ...account, name: "slow" }, async () => {
        entered += 1;
        await gate;
      });
      await fx.ns.write("account-0", { type: "Event", data: {} });
      await until(() => entered === 1, "the handler stalled on the first message");
      const written = await within(writeMany(fx.ns, 300, (i) => `account-${i % 7}`, 1), 20_000, "300 writes while the handler is stalled");
      expect(written).toEqual(range(2, 300));
      const batch = await within(
        fx.ns.writeBatch("account-x", range(0, 500).map((i) => ({ type: "Batched", data: { i } }))),
        5000,
        "a batch of 500",
      );
      expect(batch.lastGlobalPosition).toBe(801);
      expect([entered, c.handled.length]).toEqual([1, 0]);
      release();
      await until(() => c.handled.length === 801, "the consumer catching up", 40_000);
      await within(c.handle.stop(), 5000, "stop()");
      expect(c.positions()).toEqual(range(1, 801));
      expect(await fx.ns.consumerPosition({ ...account, name: "slow" })).toBe(801);
    }, 60_000);

    test("the pull form over HTTP: acknowledged messages are not handed again; an unacknowledged one comes first at the next start", async () => {
      const id = { ...account, name: "puller" };
      await writeMany(fx.ns, 4, (i) => `account-${i}`);
      const it = fx.ns.consumer(id);
      const taken = await take(it, 3);
      expect(taken.map((m) => m.globalPosition)).toEqual([1, 2, 3]);
      await taken[0].ack();
      await taken[1].ack();
      expect(await it.info()).toEqual({ position: 2, handled: 2, active: true });
      await within(it.stop(), 5000, "stop()");
      expect((await it.info()).active).toBe(false);
      expect(await it.next()).toEqual({ done: true, value: undefined });

      // Leaving a `for await` loop closes the subscription and lets go of the name.
      const again = await within(
        (async () => {
          const out: number[] = [];
          for await (const m of fx.ns.consumer(id)) {
            out.push(m.globalPosition);
            await m.ack();
            if (out.length === 2) break;
          }
          return out;
        })(),
        10_000,
        "the second pull",
      );
      expect(again).toEqual([3, 4]);
      expect(await fx.ns.consumerPosition(id)).toBe(4);
      const later = await writeMany(fx.ns, 1, () => "account-0", 4);
      const third = fx.ns.consumer(id);
      const [m] = await take(third, 1);
      await within(third.stop(), 5000, "stop()");
      expect(m.globalPosition).toBe(later[0]);
    }, 30_000);

    test("a throwing handler stops the HTTP consumer with its error (no retry over HTTP); the message comes first at the next start", async () => {
      const id = { ...account, name: "fragile" };
      await writeMany(fx.ns, 5, (i) => `account-${i}`);
      const tries: number[] = [];
      const c = collectHttp(fx.ns, id, (m) => {
        tries.push(m.globalPosition);
        if (m.data.i === 2) throw new Error("cannot handle it");
      });
      const error = await within(c.ended, 10_000, "the consumer stopping on its own");
      expect((error as Error)?.message).toBe("cannot handle it");
      expect([tries, c.positions()]).toEqual([
        [1, 2, 3],
        [1, 2],
      ]);
      expect(await fx.ns.consumerPosition(id)).toBe(2);
      expect(await fx.ns.parked(id)).toEqual([]);
      // The name is free again: a new consumer takes it at once and starts at the failed message.
      const again = collectHttp(fx.ns, id);
      await until(() => again.handled.length === 3, "the rest handled after a restart");
      await within(again.handle.stop(), 5000, "stop()");
      expect(again.positions()).toEqual([3, 4, 5]);
    }, 30_000);

    test("a bad consumer name or a consumer without a category is INVALID_REQUEST", async () => {
      const charset = "consumer name must be 1-128 characters of A-Z, a-z, 0-9, '_', '.' and '-'";
      for (const [name, message] of [
        ["a b", charset],
        ["x".repeat(129), charset],
        ["", "consumer name must be a non-empty string"],
      ]) {
        const id = { ...account, name };
        await expectRejects(within(fx.ns.consume(id, () => {}).done, 5000, "the refusal"), InvalidRequestError, "INVALID_REQUEST", message);
        await expectRejects(fx.ns.consumerPosition(id), InvalidRequestError, "INVALID_REQUEST", message);
        await expectRejects(fx.ns.ack(id, 1), InvalidRequestError, "INVALID_REQUEST", message);
      }
      const res = await fetch(`${fx.server.url}/subscribe?stream=account-1&name=ok&token=${fx.ns.token}`);
      expect([res.status, res.headers.get("content-type")]).toEqual([400, "application/json"]);
      expect(await res.json()).toEqual({ error: { code: "INVALID_REQUEST", message: "'name' (a consumer) needs 'category'" } });
      expect(await fx.ns.consumers()).toEqual([]);
    }, 30_000);

    test("interop: a position recorded by the in-process consumer is where an HTTP consumer resumes, and the reverse", async () => {
      const id = { ...account, name: "shared" };
      const app = await fx.app();
      await writeMany(fx.ns, 5, (i) => `account-${i % 2}`);
      const inProcess = collect(app, id);
      await until(() => inProcess.handled.length === 5, "the in-process consumer handling 5");
      await within(inProcess.handle.stop(), 5000, "the in-process stop()");
      expect(await app.consumerPosition(id)).toBe(5);

      const more = await writeMany(fx.ns, 2, (i) => `account-${i % 2}`, 5);
      const overHttp = collectHttp(fx.ns, id);
      await until(() => overHttp.handled.length === 2, "the HTTP consumer handling the 2 new");
      await within(overHttp.handle.stop(), 5000, "the HTTP stop()");
      expect(overHttp.positions()).toEqual(more);
      // Recorded by the server after an idle second (the position records take global positions
      // of their own, in another category).
      await until(async () => (await app.consumerPosition(id)) === more[1], "the server recording the HTTP consumer's last", 10_000);

      const last = await writeMany(fx.ns, 1, () => "account-0", 7);
      const resumed = collect(app, id);
      await until(() => resumed.handled.length === 1, "the in-process consumer handling the new one");
      await within(resumed.handle.stop(), 5000, "the in-process stop()");
      expect(resumed.positions()).toEqual(last);
      expect(await fx.ns.consumerPosition(id)).toBe(last[0]);
      expect((await fx.ns.getStream("account:position-shared")).map((m) => [m.type, m.data])).toEqual([
        ["Recorded", { position: 5 }],
        ["Recorded", { position: more[1] }],
        ["Recorded", { position: last[0] }],
      ]);
    }, 30_000);

    test("interop: the in-process consumer and an HTTP consumer with one name exclude each other", async () => {
      const id = { ...account, name: "exclusive" };
      const app = await fx.app();
      await writeMany(fx.ns, 3, (i) => `account-${i}`);
      const inProcess = collect(app, { ...id, lease: 1000 });
      await until(() => inProcess.handled.length === 3, "the in-process consumer handling 3");
      const overHttp = collectHttp(fx.ns, id);
      await until(async () => gauge(await fx.metrics(), "messagedb_open_subscriptions") === 1, "the HTTP consumer connected");
      const during = await writeMany(fx.ns, 2, (i) => `account-${i}`, 3);
      await until(() => inProcess.handled.length === 5, "the in-process consumer handling 2 more");
      expect(overHttp.handled).toEqual([]);
      expect((await overHttp.handle.info()).active).toBe(false);
      await within(inProcess.handle.stop(), 5000, "the in-process stop()");
      const stopped = Date.now();
      await until(async () => (await overHttp.handle.info()).active, "the HTTP consumer taking over", 5000);
      expect(Date.now() - stopped).toBeLessThan(5000);
      const after = await writeMany(fx.ns, 1, () => "account-0", 5);
      await until(() => overHttp.handled.length === 1, "the HTTP consumer handling the new one");
      expect(inProcess.positions()).toEqual([1, 2, 3, ...during]);
      expect(overHttp.positions()).toEqual(after);

      // And the other way round: the in-process one waits while the HTTP one is connected.
      const standby = collect(app, { ...id, lease: 1000 });
      await until(async () => (await standby.handle.info()).active === false, "the in-process standby waiting");
      const during2 = await writeMany(fx.ns, 1, () => "account-1", 6);
      await until(() => overHttp.handled.length === 2, "the HTTP consumer handling one more");
      expect(standby.handled).toEqual([]);
      // The server records what its client acknowledged when the client disconnects, before it lets
      // go of the name: the standby takes over after it.
      await within(overHttp.handle.stop(), 5000, "the HTTP stop()");
      const gone = Date.now();
      await until(async () => (await standby.handle.info()).active, "the in-process standby taking over", 5000);
      expect(Date.now() - gone).toBeLessThan(5000);
      const after2 = await writeMany(fx.ns, 1, () => "account-2", 7);
      await until(() => standby.handled.length === 1, "the in-process consumer handling the new one");
      await within(standby.handle.stop(), 5000, "the in-process stop()");
      expect(overHttp.positions()).toEqual([...after, ...during2]);
      expect(standby.positions()).toEqual(after2);
    }, 30_000);

    test("interop: messages parked by the in-process consumer are listed by consumer.parked and counted by consumer.list", async () => {
      const id = { ...account, name: "parker" };
      const app = await fx.app();
      await writeMany(fx.ns, 4, (i) => `account-${i}`);
      const c = collect(app, { ...id, retry: { attempts: 0 } }, (m) => {
        if (m.data.i === 1) throw new Error("cannot handle account-1");
      });
      await until(() => c.handled.length === 3, "3 handled, 1 parked");
      await within(c.handle.stop(), 5000, "stop()");
      const original = (await fx.ns.getStream("account-1"))[0];
      const parked = await fx.ns.parked(id);
      expect(parked).toEqual(await app.parked(id));
      expect(parked.map((p) => ({ ...p, parkedAt: "" }))).toEqual([
        { stream: "account-1", position: 0, globalPosition: 2, type: "Event", id: original.id, error: "cannot handle account-1", attempts: 1, parkedAt: "" },
      ]);
      expect(Math.abs(Date.parse(parked[0].parkedAt) - Date.now())).toBeLessThan(60_000);
      expect(await fx.ns.consumers(account)).toEqual([{ category: "account", name: "parker", group: null, position: 4, lag: 0, parked: 1 }]);
      expect(await fx.ns.parked({ ...account, name: "nobody" })).toEqual([]);
    }, 30_000);

    test("an acknowledgement behind a position recorded elsewhere does not move it back", async () => {
      const id = { ...account, name: "behind" };
      await writeMany(fx.ns, 12, (i) => `account-${i % 3}`);
      expect(await fx.ns.ack(id, 3)).toEqual({ position: 3 });
      const app = await fx.app();
      await app.setConsumerPosition(id, 10);
      expect(await fx.ns.consumerPosition(id)).toBe(10);
      expect(await fx.ns.ack(id, 7)).toEqual({ position: 10 });
      expect(await fx.ns.consumerPosition(id)).toBe(10);
    }, 30_000);

    test("consumer.list and /metrics show HTTP consumers with their lag", async () => {
      await writeMany(fx.ns, 5, (i) => `account-${i % 2}`);
      await fx.ns.write("user-1", { type: "Other", data: {} });
      const lister = collectHttp(fx.ns, { ...account, name: "lister" });
      const member = collectHttp(fx.ns, { ...account, name: "lister", group: { member: 1, size: 2 } });
      await until(() => lister.handled.length === 5, "lister handling 5");
      const memberShare = (await fx.ns.getCategory("account", { consumerGroup: { member: 1, size: 2 } })).map((m) => m.globalPosition);
      await until(() => member.handled.length === memberShare.length, "the member handling its share");
      await within(lister.handle.stop(), 5000, "stop()");
      await within(member.handle.stop(), 5000, "stop()");
      const later = await writeMany(fx.ns, 3, (i) => `account-${i % 2}`, 5);

      const key = (c: HttpConsumerListing) => `${c.name}/${c.group?.member ?? ""}`;
      const listing = async (options?: { category?: string }) => (await fx.ns.consumers(options)).sort((a, b) => (key(a) < key(b) ? -1 : 1));
      // The member's lag counts the category after its position (as core's info does).
      const memberLag = (await fx.ns.getCategory("account", { position: memberShare.at(-1)! + 1 })).length;
      const expected = [
        { category: "account", name: "lister", group: null, position: 5, lag: 3, parked: 0 },
        { category: "account", name: "lister", group: { member: 1, size: 2 }, position: memberShare.at(-1)!, lag: memberLag, parked: 0 },
      ];
      expect(await listing(account)).toEqual(expected);
      expect(await listing()).toEqual(expected);
      expect(await fx.ns.consumers({ category: "user" })).toEqual([]);

      const labels = { namespace: fx.nsId, category: "account" };
      const lag = async (consumer: string) => metricValue(await fx.metrics(), "messagedb_consumer_lag", { ...labels, consumer });
      expect(await lag("lister")).toBe(3);
      expect(await lag("lister_1_2")).toBe(memberLag);

      // The lag follows the consumer: a restart handles the 3 and the lag drops to 0.
      const again = collectHttp(fx.ns, { ...account, name: "lister" });
      await until(() => again.handled.length === 3, "the 3 new handled");
      await within(again.handle.stop(), 5000, "stop()");
      expect(await lag("lister")).toBe(0);
      expect((await listing(account))[0]).toEqual({ ...expected[0], position: later[2], lag: 0 });
    }, 30_000);
  });
}
