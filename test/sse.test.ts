// wire-protocol.md §4: GET /subscribe (Server-Sent Events).
import { beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readlinkSync } from "node:fs";
import { connect } from "node:net";
import {
  call,
  cleanupAfterAll,
  groupMember,
  httpRequest,
  newNamespace,
  parseSseBlock,
  SseReader,
  startServer,
  subscribeUrl,
  waitFor,
  writeN,
  type Poke,
  type Server,
} from "./harness";

cleanupAfterAll();

let server: Server;
beforeAll(async () => {
  server = await startServer();
});

async function fresh() {
  return (await newNamespace(server, "sse")).token;
}

/** Opens a subscription and consumes the leading `: ready` comment (asserting it is first). */
async function subscribe(token: string, params: Record<string, string | number | boolean>): Promise<SseReader> {
  const sub = await SseReader.open(server.url, params, token);
  const first = await sub.next(5000);
  expect(first.type).toBe("comment");
  expect(first.comment).toBe("ready");
  return sub;
}

const gp = (ps: Poke[]) => ps.map((p) => p.globalPosition);

describe("stream subscriptions", () => {
  test("headers, then ': ready', then history, then live pokes", async () => {
    const t = await fresh();
    await writeN(server.url, t, "account-1", 3);
    await writeN(server.url, t, "account-2", 1); // same category, other stream
    const sub = await SseReader.open(server.url, { stream: "account-1" }, t);
    try {
      const h = sub.response.headers;
      expect(sub.response.status).toBe(200);
      expect(h.get("content-type") ?? "").toContain("text/event-stream");
      expect(h.get("cache-control")).toBe("no-cache");
      expect(h.get("access-control-allow-origin")).toBe("*");
      const first = await sub.next();
      expect(first).toMatchObject({ type: "comment", comment: "ready" });
      expect(first.raw).toBe(": ready");
      const history = await sub.pokes(3);
      expect(history).toEqual([
        { stream: "account-1", position: 0, globalPosition: 1 },
        { stream: "account-1", position: 1, globalPosition: 2 },
        { stream: "account-1", position: 2, globalPosition: 3 },
      ]);
      await sub.expectNoPoke(200);
      await writeN(server.url, t, "account-2", 1);
      const w = await call(server.url, t, "stream.write", "account-1", { type: "T", data: {} });
      expect(await sub.nextPoke()).toEqual({ stream: "account-1", position: 3, globalPosition: w.globalPosition });
      await sub.expectNoPoke(300);
    } finally {
      sub.close();
    }
  });

  test("': ready' arrives at once on an empty stream", async () => {
    const t = await fresh();
    const t0 = performance.now();
    const sub = await subscribe(t, { stream: "empty-1" });
    expect(performance.now() - t0).toBeLessThan(2000);
    await sub.expectNoPoke(200);
    sub.close();
  });

  test("position is a stream position: pokes start at it, history and live", async () => {
    const t = await fresh();
    await writeN(server.url, t, "pos-1", 4);
    const sub = await subscribe(t, { stream: "pos-1", position: 2 });
    try {
      expect((await sub.pokes(2)).map((p) => p.position)).toEqual([2, 3]);
      await sub.expectNoPoke(200);
    } finally {
      sub.close();
    }
    const ahead = await subscribe(t, { stream: "pos-1", position: 6 });
    try {
      await writeN(server.url, t, "pos-1", 3); // positions 4, 5, 6
      expect(await ahead.nextPoke()).toMatchObject({ stream: "pos-1", position: 6 });
      await ahead.expectNoPoke(200);
    } finally {
      ahead.close();
    }
  });

  test("the whole history is delivered (paged), in order, exactly once", async () => {
    const t = await fresh();
    for (let b = 0; b < 3; b++) {
      await call(server.url, t, "stream.writeBatch", "long-1", Array.from({ length: 1000 }, (_, i) => ({ type: "T", data: { i } })));
    }
    const sub = await subscribe(t, { stream: "long-1" });
    try {
      const ps = await sub.pokes(3000, 20000);
      expect(ps.map((p) => p.position)).toEqual(Array.from({ length: 3000 }, (_, i) => i));
      await sub.expectNoPoke(200);
    } finally {
      sub.close();
    }
  });

  test("the token may also come from Authorization: Bearer", async () => {
    const t = await fresh();
    await writeN(server.url, t, "hdr-1", 1);
    const controller = new AbortController();
    const res = await fetch(subscribeUrl(server.url, { stream: "hdr-1" }), {
      headers: { Authorization: `Bearer ${t}` },
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-messagedb-token")).toBeNull(); // not a new namespace
    const sub = new SseReader(res, controller);
    try {
      expect((await sub.next()).comment).toBe("ready");
      expect(await sub.nextPoke()).toMatchObject({ stream: "hdr-1", position: 0, globalPosition: 1 });
    } finally {
      sub.close();
    }
  });
});

describe("category and all subscriptions", () => {
  test("category: only that category (exact), in global order; position is a global position", async () => {
    const t = await fresh();
    await writeN(server.url, t, "account-1", 1); // 1
    await writeN(server.url, t, "accountX-1", 1); // 2
    await writeN(server.url, t, "account-2", 1); // 3
    await writeN(server.url, t, "other-1", 1); // 4
    await writeN(server.url, t, "account-1", 1); // 5
    const sub = await subscribe(t, { category: "account" });
    try {
      expect(await sub.pokes(3)).toEqual([
        { stream: "account-1", position: 0, globalPosition: 1 },
        { stream: "account-2", position: 0, globalPosition: 3 },
        { stream: "account-1", position: 1, globalPosition: 5 },
      ]);
      await writeN(server.url, t, "other-1", 1); // 6
      await writeN(server.url, t, "account-3", 1); // 7
      expect(await sub.nextPoke()).toEqual({ stream: "account-3", position: 0, globalPosition: 7 });
      await sub.expectNoPoke(200);
    } finally {
      sub.close();
    }
    const from = await subscribe(t, { category: "account", position: 3 });
    try {
      expect(gp(await from.pokes(3))).toEqual([3, 5, 7]);
      await from.expectNoPoke(200);
    } finally {
      from.close();
    }
  });

  test("all=true: every message of the namespace, global order, from position", async () => {
    const t = await fresh();
    await writeN(server.url, t, "a-1", 1);
    await writeN(server.url, t, "b-1", 1);
    await writeN(server.url, t, "c", 1);
    const sub = await subscribe(t, { all: "true" });
    const from = await subscribe(t, { all: "true", position: 2 });
    try {
      expect(await sub.pokes(3)).toEqual([
        { stream: "a-1", position: 0, globalPosition: 1 },
        { stream: "b-1", position: 0, globalPosition: 2 },
        { stream: "c", position: 0, globalPosition: 3 },
      ]);
      expect(gp(await from.pokes(2))).toEqual([2, 3]);
      await writeN(server.url, t, "d-9", 1);
      expect(await sub.nextPoke()).toEqual({ stream: "d-9", position: 0, globalPosition: 4 });
      expect(await from.nextPoke()).toEqual({ stream: "d-9", position: 0, globalPosition: 4 });
      await sub.expectNoPoke(200);
    } finally {
      sub.close();
      from.close();
    }
  });

  test("namespaces do not leak into each other's subscriptions", async () => {
    const t1 = await fresh();
    const t2 = await fresh();
    const sub = await subscribe(t1, { all: true });
    try {
      await writeN(server.url, t2, "x-1", 2);
      await writeN(server.url, t1, "y-1", 1);
      expect(await sub.nextPoke()).toEqual({ stream: "y-1", position: 0, globalPosition: 1 });
      await sub.expectNoPoke(200);
    } finally {
      sub.close();
    }
  });
});

describe("consumer groups", () => {
  const STREAMS = ["account-123", "account-456", "account-123+retry", "account-789", "account-abc", "account", "account-1000"];

  async function setup() {
    const t = await fresh();
    for (const s of STREAMS) await writeN(server.url, t, s, 1);
    return t;
  }
  const expectedStreams = (size: number, member: number) => STREAMS.filter((s) => groupMember(s, size) === member);

  test("consumer/size: account-123 → member 1 of 2 (history and live); account-123+retry follows it", async () => {
    const t = await setup();
    expect(expectedStreams(2, 1)).toContain("account-123");
    const subs = [await subscribe(t, { category: "account", consumer: 0, size: 2 }), await subscribe(t, { category: "account", consumer: 1, size: 2 })];
    try {
      for (const member of [0, 1]) {
        const exp = expectedStreams(2, member);
        const ps = await subs[member].pokes(exp.length);
        expect(ps.map((p) => p.stream)).toEqual(exp);
        await subs[member].expectNoPoke(100);
      }
      // Live: account-123 goes to member 1 only, as does account-123+retry.
      await writeN(server.url, t, "account-123", 1);
      await writeN(server.url, t, "account-123+retry", 1);
      await writeN(server.url, t, "account", 1); // no '-': no member
      expect((await subs[1].pokes(2)).map((p) => p.stream)).toEqual(["account-123", "account-123+retry"]);
      await subs[0].expectNoPoke(300);
      await subs[1].expectNoPoke(100);
    } finally {
      for (const s of subs) s.close();
    }
  });

  test("consumerGroupMember/consumerGroupSize: account-456 → member 3 of 4 and member 1 of 3", async () => {
    const t = await setup();
    const s34 = await subscribe(t, { category: "account", consumerGroupMember: 3, consumerGroupSize: 4 });
    const s13 = await subscribe(t, { category: "account", consumerGroupMember: 1, consumerGroupSize: 3 });
    const s04 = await subscribe(t, { category: "account", consumerGroupMember: 0, consumerGroupSize: 4 });
    try {
      const e34 = expectedStreams(4, 3);
      expect(e34).toEqual(expect.arrayContaining(["account-123", "account-456"]));
      expect((await s34.pokes(e34.length)).map((p) => p.stream)).toEqual(e34);
      const e13 = expectedStreams(3, 1);
      expect(e13).toContain("account-456");
      expect((await s13.pokes(e13.length)).map((p) => p.stream)).toEqual(e13);
      const e04 = expectedStreams(4, 0);
      expect(e04).not.toContain("account-456");
      if (e04.length) expect((await s04.pokes(e04.length)).map((p) => p.stream)).toEqual(e04);
      await writeN(server.url, t, "account-456", 1);
      expect(await s34.nextPoke()).toMatchObject({ stream: "account-456", position: 1 });
      expect(await s13.nextPoke()).toMatchObject({ stream: "account-456", position: 1 });
      await s04.expectNoPoke(300);
      await s34.expectNoPoke(50);
      await s13.expectNoPoke(50);
    } finally {
      s34.close();
      s13.close();
      s04.close();
    }
  });
});

describe("exactly once, in order, under concurrent writers", () => {
  test("50 concurrent writers: every subscriber gets each poke once, in order, without gaps", async () => {
    const t = await fresh();
    const WRITERS = 50;
    const PER = 10;
    const TOTAL = WRITERS * PER;
    const stream = (w: number) => `${w % 2 === 0 ? "cata" : "catb"}-${w}`;

    const all = await subscribe(t, { all: true });
    const cata = await subscribe(t, { category: "cata" });
    const single = await subscribe(t, { stream: stream(7) });
    let late: SseReader | undefined;
    try {
      let acked = 0;
      const writers = Array.from({ length: WRITERS }, async (_, w) => {
        for (let i = 0; i < PER; i++) {
          const r = await call(server.url, t, "stream.write", stream(w), { type: "T", data: { w, i } });
          expect(r.position).toBe(i);
          acked++;
        }
      });
      // A subscriber that joins mid-way gets history then live with no seam.
      await waitFor(() => acked >= TOTAL / 4, { timeout: 20000, message: "writers progress" });
      late = await subscribe(t, { all: true });
      await Promise.all(writers);

      const ps = await all.pokes(TOTAL, 20000);
      expect(gp(ps)).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
      // Each stream's positions arrive in order.
      const perStream = new Map<string, number[]>();
      for (const p of ps) perStream.set(p.stream, [...(perStream.get(p.stream) ?? []), p.position]);
      expect(perStream.size).toBe(WRITERS);
      for (const positions of perStream.values()) expect(positions).toEqual(Array.from({ length: PER }, (_, i) => i));

      const lateP = await late.pokes(TOTAL, 20000);
      expect(gp(lateP)).toEqual(gp(ps));

      const expectedA = (await call(server.url, t, "category.get", "cata", { batchSize: -1 })).map((m: any[]) => m[4]);
      expect(expectedA).toHaveLength(TOTAL / 2);
      const aP = await cata.pokes(TOTAL / 2, 20000);
      expect(gp(aP)).toEqual(expectedA);
      expect(aP.every((p) => p.stream.startsWith("cata-"))).toBe(true);

      const sP = await single.pokes(PER, 10000);
      expect(sP.map((p) => p.position)).toEqual(Array.from({ length: PER }, (_, i) => i));
      expect(sP.every((p) => p.stream === stream(7))).toBe(true);

      // Nothing more: no duplicates after the expected count.
      await Promise.all([all.expectNoPoke(300), late.expectNoPoke(50), cata.expectNoPoke(50), single.expectNoPoke(50)]);
    } finally {
      all.close();
      cata.close();
      single.close();
      late?.close();
    }
  });
});

describe("parameter errors (400, plain text)", () => {
  const cases: Array<[Record<string, string>, string]> = [
    [{}, "Either 'stream', 'category', or 'all=true' parameter required"],
    [{ position: "3" }, "Either 'stream', 'category', or 'all=true' parameter required"],
    [{ all: "true", stream: "a-1" }, "Cannot combine 'all' with 'stream' or 'category'"],
    [{ all: "true", category: "a" }, "Cannot combine 'all' with 'stream' or 'category'"],
    [{ stream: "a-1", category: "a" }, "Cannot specify both 'stream' and 'category'"],
    [{ stream: "a-1", position: "abc" }, "Invalid position parameter"],
    [{ category: "a", position: "1x" }, "Invalid position parameter"],
    [{ category: "a", consumer: "x", size: "2" }, "Invalid consumer parameter"],
    [{ category: "a", consumer: "0", size: "y" }, "Invalid size parameter"],
    [{ category: "a", consumerGroupMember: "x", consumerGroupSize: "2" }, "Invalid consumer parameter"],
    [{ category: "a", consumerGroupMember: "0", consumerGroupSize: "y" }, "Invalid size parameter"],
    [{ category: "a", consumer: "2", size: "2" }, "Invalid consumer group: member must be < size"],
    [{ category: "a", consumerGroupMember: "5", consumerGroupSize: "3" }, "Invalid consumer group: member must be < size"],
  ];
  for (const [params, message] of cases) {
    test(`${JSON.stringify(params)} → "${message}"`, async () => {
      const r = await httpRequest(subscribeUrl(server.url, params, server.token));
      expect(r.status).toBe(400);
      expect(r.headers.get("content-type") ?? "").toContain("text/plain");
      expect(r.text.trim()).toBe(message);
    });
  }
});

/** A raw HTTP/1.1 GET that reports the status line, headers and every chunk of a chunked body. */
function rawSubscribe(port: number, path: string) {
  const sock = connect(port, "127.0.0.1");
  let buf = Buffer.alloc(0);
  let head: { status: number; headers: Record<string, string> } | undefined;
  const chunks: string[] = [];
  let chunked = false;
  let plain = "";
  sock.on("connect", () => sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n\r\n`));
  sock.on("data", (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    if (!head) {
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      const lines = buf.subarray(0, end).toString("latin1").split("\r\n");
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(":");
        headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      head = { status: Number(lines[0].split(" ")[1]), headers };
      chunked = (headers["transfer-encoding"] ?? "").includes("chunked");
      buf = buf.subarray(end + 4);
    }
    if (!chunked) {
      plain += buf.toString("utf8");
      buf = Buffer.alloc(0);
      return;
    }
    for (;;) {
      const nl = buf.indexOf("\r\n");
      if (nl < 0) return;
      const size = parseInt(buf.subarray(0, nl).toString("latin1"), 16);
      if (buf.length < nl + 2 + size + 2) return;
      chunks.push(buf.subarray(nl + 2, nl + 2 + size).toString("utf8"));
      buf = buf.subarray(nl + 2 + size + 2);
    }
  });
  sock.on("error", () => {});
  return {
    get head() {
      return head;
    },
    chunks,
    get chunked() {
      return chunked;
    },
    get plain() {
      return plain;
    },
    close: () => sock.destroy(),
  };
}

describe("wire format", () => {
  test("Connection: keep-alive; each poke is one write (one chunk) with the whole event and \\n endings", async () => {
    const t = await fresh();
    await writeN(server.url, t, "wire-1", 5);
    const raw = rawSubscribe(server.port, `/subscribe?stream=wire-1&token=${t}`);
    try {
      await waitFor(() => raw.head, { message: "response head" });
      expect(raw.head!.status).toBe(200);
      expect(raw.head!.headers["content-type"]).toContain("text/event-stream");
      expect(raw.head!.headers["cache-control"]).toBe("no-cache");
      expect((raw.head!.headers["connection"] ?? "").toLowerCase()).toBe("keep-alive");
      expect(raw.head!.headers["access-control-allow-origin"]).toBe("*");
      await writeN(server.url, t, "wire-1", 5);
      const text = () => (raw.chunked ? raw.chunks.join("") : raw.plain);
      await waitFor(() => (text().match(/event: poke/g) ?? []).length >= 10, { timeout: 10000, message: "10 pokes" });
      const all = text();
      expect(all.startsWith(": ready\n\n")).toBe(true);
      expect(all).not.toContain("\r");
      const blocks = all.split("\n\n").filter((b) => b.length > 0);
      const pokes = blocks.map(parseSseBlock).filter((e) => e.type === "poke");
      expect(pokes.map((p) => JSON.parse(p.data!).position)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      for (const p of pokes) {
        expect(p.raw).toMatch(/^event: poke\ndata: \{[^\n]*\}$/);
        expect(Object.keys(JSON.parse(p.data!)).sort()).toEqual(["globalPosition", "position", "stream"]);
      }
      if (raw.chunked) {
        // No event is ever split across chunks: every chunk holds whole events only.
        for (const c of raw.chunks) {
          if (c.length === 0) continue;
          expect(c).toMatch(/^(?:(?::[^\n]*\n)+\n|event: poke\ndata: [^\n]*\n\n)+$/);
        }
      }
    } finally {
      raw.close();
    }
  });
});

/** Sockets the server process holds open (Linux /proc). */
function serverSockets(pid: number): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith("socket:")) n++;
    } catch {
      // closed while listing
    }
  }
  return n;
}

describe("disconnect cleanup", () => {
  test("after clients disconnect, the open-subscriptions gauge returns to its previous value", async () => {
    const t = await fresh();
    // One subscription first, so that a gauge recorded lazily exists before it is looked up.
    const warm = await subscribe(t, { stream: "warm-1" });
    const metricsText = await (await fetch(`${server.url}/metrics`)).text();
    warm.close();
    const line = metricsText.split("\n").find((l) => !l.startsWith("#") && /subscription/i.test(l));
    if (!line) console.warn("no /metrics sample mentions 'subscription': disconnect cleanup is checked by behaviour only");
    const name = line?.split(/[\s{]/)[0];
    const readGauge = async (): Promise<number | null> => {
      if (!name) return null;
      const text = await (await fetch(`${server.url}/metrics`)).text();
      const l = text.split("\n").find((x) => x.startsWith(name) && (x[name.length] === " " || x[name.length] === "{"));
      return l ? Number(l.trim().split(/\s+/).pop()) : null;
    };
    // The warm-up subscription is gone once the gauge settles (its disconnect may be noticed later).
    let before = await readGauge();
    if (name) {
      await waitFor(
        async () => {
          await call(server.url, t, "stream.write", "warm-1", { type: "T", data: {} });
          const a = await readGauge();
          await Bun.sleep(100);
          const b = await readGauge();
          before = b;
          return a === b;
        },
        { timeout: 20000, message: `${name} settles` },
      );
    }

    const subs: SseReader[] = [];
    for (let i = 0; i < 5; i++) subs.push(await subscribe(t, { stream: `gone-${i}` }));
    if (name) await waitFor(async () => (await readGauge()) === before! + 5, { timeout: 5000, message: `${name} up by 5` });
    for (const s of subs) s.close();
    if (name) {
      // Write to the streams as well, so a write to a closed connection notices it too.
      let i = 0;
      await waitFor(
        async () => {
          await call(server.url, t, "stream.write", `gone-${i++ % 5}`, { type: "T", data: {} });
          return (await readGauge()) === before;
        },
        { timeout: 20000, interval: 200, message: `${name} back to its previous value` },
      );
    }
  });

  test("dropped subscriptions release their connections (server sockets return to the baseline)", async () => {
    const t = await fresh();
    await writeN(server.url, t, "drop-1", 1);
    const pid = server.proc.pid;
    const baseline = serverSockets(pid);
    // Raw sockets: each is a new connection (a fetch pool could reuse idle ones).
    const raws = Array.from({ length: 20 }, () => rawSubscribe(server.port, `/subscribe?stream=drop-1&token=${t}`));
    try {
      await waitFor(() => raws.every((r) => r.chunks.join("").includes("event: poke")), { timeout: 10000, message: "20 subscriptions poked" });
      expect(serverSockets(pid)).toBeGreaterThanOrEqual(baseline + 20);
    } finally {
      for (const r of raws) r.close();
    }
    await waitFor(
      async () => {
        await call(server.url, t, "stream.write", "drop-1", { type: "T", data: {} });
        return serverSockets(pid) <= baseline + 2;
      },
      { timeout: 20000, interval: 200, message: `server sockets back to ${baseline}` },
    );
    // And the server still serves subscriptions.
    const again = await subscribe(t, { stream: "drop-1" });
    try {
      expect((await again.nextPoke()).position).toBe(0);
    } finally {
      again.close();
    }
  });
});
