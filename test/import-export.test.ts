// wire-protocol.md §6: POST /import (NDJSON) and the `messagedb export` / `messagedb import` commands.
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import {
  call,
  cleanupAfterAll,
  newNamespace,
  randomUuid,
  rpcRaw,
  runCli,
  startServer,
  tempDir,
  waitFor,
  type Server,
} from "./harness";

cleanupAfterAll();

let server: Server;
beforeAll(async () => {
  server = await startServer();
});

interface Rec {
  id: string;
  stream: string;
  type: string;
  pos: number;
  gpos: number;
  data: Record<string, unknown>;
  meta: Record<string, unknown> | null;
  time: string;
}

function rec(stream: string, pos: number, gpos: number, extra: Partial<Rec> = {}): Rec {
  return { id: randomUuid(), stream, type: "Imported", pos, gpos, data: { gpos }, meta: null, time: "2024-01-15T10:30:00.123456Z", ...extra };
}
const ndjson = (recs: unknown[]) => recs.map((r) => (typeof r === "string" ? r : JSON.stringify(r))).join("\n") + "\n";

/** POST /import and read the whole event stream. */
async function importBody(token: string, body: string, query = "") {
  const res = await fetch(`${server.url}/import${query}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/x-ndjson" },
    body,
  });
  const text = await res.text();
  const events = text
    .split("\n")
    .filter((l) => l.startsWith("data:"))
    .map((l) => JSON.parse(l.slice(5).trim()));
  return { status: res.status, contentType: res.headers.get("content-type") ?? "", text, events };
}

const done = (events: any[]) => events.find((e) => e.done === true);
const errorOf = (events: any[]) => events.find((e) => typeof e.error === "string");

describe("POST /import", () => {
  test("keeps id, pos, gpos, time, data and meta exactly; writes continue at max(gpos)+1", async () => {
    const { token } = await newNamespace(server, "imp");
    const recs = [
      rec("acct-1", 0, 10, { type: "Opened", data: { a: 1 }, time: "2024-01-15T10:30:00.123456Z" }),
      rec("acct-2", 0, 11, { meta: { correlationStreamName: "x-1" }, time: "2024-01-15T10:30:01Z" }),
      rec("acct-1", 1, 20, { type: "Deposited", data: { n: [1, "two", null] }, time: "2024-01-15T10:30:02.5Z" }),
      rec("other-1", 0, 21, { time: "2023-12-31T23:59:59.000001Z" }),
    ];
    const r = await importBody(token, ndjson(recs));
    expect(r.status).toBe(200);
    expect(r.contentType).toContain("text/event-stream");
    expect(errorOf(r.events)).toBeUndefined();
    const d = done(r.events);
    expect(d).toMatchObject({ done: true, imported: 4 });
    expect(typeof d.elapsed).toBe("string");
    expect(r.events[r.events.length - 1]).toBe(d);

    const a1 = await call(server.url, token, "stream.get", "acct-1");
    expect(a1).toEqual([
      [recs[0].id, "Opened", 0, 10, { a: 1 }, null, "2024-01-15T10:30:00.123456Z"],
      [recs[2].id, "Deposited", 1, 20, { n: [1, "two", null] }, null, "2024-01-15T10:30:02.5Z"],
    ]);
    const all = await call(server.url, token, "category.get", "");
    expect(all.map((m: any[]) => [m[0], m[1], m[3], m[4], m[6], m[7]])).toEqual(
      recs.map((x) => [x.id, x.stream, x.pos, x.gpos, x.meta, x.time]),
    );
    expect(await call(server.url, token, "stream.version", "acct-1")).toBe(1);
    expect(await call(server.url, token, "stream.write", "acct-1", { type: "T", data: {} })).toEqual({ position: 2, globalPosition: 22 });
    expect(await call(server.url, token, "stream.write", "new-1", { type: "T", data: {} })).toEqual({ position: 0, globalPosition: 23 });
  });

  test("big integers in imported data are kept exactly", async () => {
    const { token } = await newNamespace(server, "imp");
    const line = `{"id":"${randomUuid()}","stream":"big-1","type":"T","pos":0,"gpos":1,"data":{"big":123456789012345678901234567890},"meta":null,"time":"2024-01-15T10:30:00Z"}`;
    const r = await importBody(token, line + "\n");
    expect(done(r.events)).toMatchObject({ imported: 1 });
    const got = await rpcRaw(server.url, '["stream.get","big-1"]', token);
    expect(got.text).toContain("123456789012345678901234567890");
  });

  test("progress events {imported, gpos} as batches of 1000 commit, then the done event", async () => {
    const { token } = await newNamespace(server, "imp");
    const recs = Array.from({ length: 2500 }, (_, i) => rec(`s-${i % 7}`, Math.floor(i / 7), i + 1));
    const r = await importBody(token, ndjson(recs));
    expect(errorOf(r.events)).toBeUndefined();
    const progress = r.events.filter((e) => "imported" in e && !e.done);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    for (const p of progress) {
      expect(Object.keys(p).sort()).toEqual(["gpos", "imported"]);
      expect(p.gpos).toBe(p.imported); // gpos = i+1 here: the last committed record's
    }
    for (let i = 1; i < progress.length; i++) expect(progress[i].imported).toBeGreaterThan(progress[i - 1].imported);
    expect(done(r.events)).toMatchObject({ done: true, imported: 2500 });
    const all = await call(server.url, token, "category.get", "", { batchSize: -1 });
    expect(all).toHaveLength(2500);
    expect(all[2499][4]).toBe(2500);
  });

  test("the body is streamed: a progress event arrives before the request body ends", async () => {
    const { token } = await newNamespace(server, "imp");
    const first = ndjson(Array.from({ length: 1000 }, (_, i) => rec("stream-1", i, i + 1)));
    const rest = ndjson(Array.from({ length: 10 }, (_, i) => rec("stream-1", 1000 + i, 1001 + i)));
    const sock = connect(server.port, "127.0.0.1");
    let response = "";
    sock.on("data", (d) => (response += d.toString("utf8")));
    sock.on("error", () => {});
    const chunk = (s: string) => {
      const b = Buffer.from(s, "utf8");
      sock.write(`${b.length.toString(16)}\r\n`);
      sock.write(b);
      sock.write("\r\n");
    };
    try {
      await new Promise<void>((r) => sock.on("connect", () => r()));
      sock.write(
        `POST /import HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n`,
      );
      chunk(first);
      await waitFor(() => /"imported":\s*[1-9]/.test(response), {
        timeout: 10000,
        message: "a progress event while the body is still open",
      });
      chunk(rest);
      sock.write("0\r\n\r\n");
      await waitFor(() => /"done":\s*true/.test(response), { timeout: 10000, message: "the done event" });
      const events = [...response.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]));
      expect(events.at(-1)).toMatchObject({ done: true, imported: 1010 });
    } finally {
      sock.destroy();
    }
    expect(await call(server.url, token, "stream.version", "stream-1")).toBe(1009);
  });

  test("INVALID_JSON with the line number; the failing batch writes nothing", async () => {
    const { token } = await newNamespace(server, "imp");
    const r = await importBody(token, ndjson([rec("j-1", 0, 1), "{not json", rec("j-1", 1, 2)]));
    const e = errorOf(r.events);
    expect(e).toMatchObject({ error: "INVALID_JSON", line: 2 });
    expect(typeof e.message).toBe("string");
    expect(done(r.events)).toBeUndefined();
    expect(await call(server.url, token, "stream.get", "j-1")).toEqual([]);
  });

  describe("INVALID_RECORD with the line number of the bad record; its batch writes nothing", () => {
    const { stream: _s, ...noStream } = rec("r-1", 1, 2);
    const bad: Array<[string, unknown]> = [
      ["missing stream", noStream],
      ["empty type", rec("r-1", 1, 2, { type: "" })],
      ["data not an object", rec("r-1", 1, 2, { data: "x" as any })],
      ["meta neither object nor null", rec("r-1", 1, 2, { meta: 5 as any })],
      ["time not RFC 3339", rec("r-1", 1, 2, { time: "yesterday" })],
      ["id not a UUID", rec("r-1", 1, 2, { id: "not-a-uuid" })],
      ["gpos not a number", rec("r-1", 1, 2, { gpos: "2" as any })],
      ["pos negative", rec("r-1", -1, 2)],
      ["a JSON array instead of an object", [1, 2, 3]],
    ];
    for (const [what, b] of bad) {
      test(what, async () => {
        const { token } = await newNamespace(server, "imp");
        const r = await importBody(token, ndjson([rec("r-1", 0, 1), rec("r-0", 0, 3), b]));
        const e = errorOf(r.events);
        expect(e).toMatchObject({ error: "INVALID_RECORD", line: 3 });
        expect(typeof e.message).toBe("string");
        expect(done(r.events)).toBeUndefined();
        expect(await call(server.url, token, "category.get", "")).toEqual([]);
      });
    }
  });

  test("global positions past 2^52 are INVALID_RECORD; writes after the largest continue upwards", async () => {
    const { token } = await newNamespace(server, "imp");
    for (const gpos of ["4503599627370497", "9223372036854775806"]) {
      const line = JSON.stringify(rec("g-1", 0, 1)).replace('"gpos":1', `"gpos":${gpos}`);
      const r = await importBody(token, line + "\n");
      expect(errorOf(r.events)).toMatchObject({ error: "INVALID_RECORD", line: 1 });
    }
    const r = await importBody(token, ndjson([rec("g-1", 0, 2 ** 52)]));
    expect(done(r.events)).toMatchObject({ imported: 1 });
    const w = await call(server.url, token, "stream.write", "g-2", { type: "After", data: {} });
    expect(w).toEqual({ position: 0, globalPosition: 2 ** 52 + 1 });
  });

  test("a record over --max-body is INVALID_RECORD with its line; memory stays flat for a 64 MiB line", async () => {
    const small = await startServer({ args: ["--max-body=65536"] });
    try {
      const { token } = await newNamespace(small, "imp");
      const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${small.proc.pid}/status`, "utf8"))![1]) * 1024;
      const before = rss();
      const chunk = new TextEncoder().encode("x".repeat(1 << 20));
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new TextEncoder().encode(JSON.stringify(rec("m-1", 0, 1)) + "\n{\"stream\":\""));
        },
        pull(c) {
          if (sent++ < 64) c.enqueue(chunk);
          else c.close();
        },
      });
      const res = await fetch(`${small.url}/import`, { method: "POST", headers: { Authorization: `Bearer ${token}` }, body });
      const text = await res.text();
      const events = text.split("\n").filter((l) => l.startsWith("data:")).map((l) => JSON.parse(l.slice(5)));
      expect(errorOf(events)).toMatchObject({ error: "INVALID_RECORD", line: 2, message: "record exceeds 65536 bytes (the --max-body limit)" });
      expect(rss() - before).toBeLessThan(16 * 1024 * 1024);
      expect(await call(small.url, token, "category.get", "")).toEqual([]);
    } finally {
      await small.stop();
    }
  });

  test("only the failing batch is lost: earlier batches of 1000 stay committed", async () => {
    const { token } = await newNamespace(server, "imp");
    const recs: unknown[] = Array.from({ length: 1500 }, (_, i) => rec("b-1", i, i + 1));
    recs[1199] = "{broken";
    const r = await importBody(token, ndjson(recs));
    expect(errorOf(r.events)).toMatchObject({ error: "INVALID_JSON", line: 1200 });
    expect(await call(server.url, token, "stream.version", "b-1")).toBe(999);
  });

  test("POSITION_EXISTS (line number) when a global position is taken; the batch writes nothing", async () => {
    const { token } = await newNamespace(server, "imp");
    await call(server.url, token, "stream.write", "live-1", { type: "T", data: {} }); // gpos 1
    const clash = await importBody(token, ndjson([rec("p-1", 0, 1), rec("p-1", 1, 2)]));
    expect(errorOf(clash.events)).toMatchObject({ error: "POSITION_EXISTS", line: 1 });
    expect(done(clash.events)).toBeUndefined();
    expect(await call(server.url, token, "stream.get", "p-1")).toEqual([]);

    // A later line of the batch whose stream position is taken (live-1 has position 0).
    const later = await importBody(token, ndjson([rec("q-2", 0, 11), rec("q-2", 1, 12), rec("live-1", 0, 13)]));
    expect(errorOf(later.events)).toMatchObject({ error: "POSITION_EXISTS", line: 3 });
    expect(await call(server.url, token, "stream.get", "q-2")).toEqual([]);
  });

  test("?force=true clears the namespace first, then imports", async () => {
    const { token } = await newNamespace(server, "imp");
    await call(server.url, token, "stream.write", "live-1", { type: "T", data: {} }); // gpos 1
    const recs = [rec("p-1", 0, 1), rec("p-1", 1, 2)];
    const forced = await importBody(token, ndjson(recs), "?force=true");
    expect(errorOf(forced.events)).toBeUndefined();
    expect(done(forced.events)).toMatchObject({ imported: 2 });
    expect(await call(server.url, token, "stream.get", "live-1")).toEqual([]); // cleared
    expect((await call(server.url, token, "stream.get", "p-1")).map((m: any[]) => m[0])).toEqual(recs.map((x) => x.id));

    const again = await importBody(token, ndjson(recs));
    expect(errorOf(again.events)).toMatchObject({ error: "POSITION_EXISTS", line: 1 });
    const forcedAgain = await importBody(token, ndjson(recs), "?force=true");
    expect(done(forcedAgain.events)).toMatchObject({ imported: 2 });
    expect(await call(server.url, token, "stream.write", "p-1", { type: "T", data: {} })).toEqual({ position: 2, globalPosition: 3 });
  });
});

describe("messagedb export / messagedb import", () => {
  let a: Server;
  let b: Server;
  beforeAll(async () => {
    a = await startServer();
    b = await startServer();
    // Data in A's default namespace: several categories, metadata, a batch, a big integer.
    await call(a.url, a.token, "stream.write", "account-1", { type: "Opened", data: { owner: "ann" } });
    await call(a.url, a.token, "stream.writeBatch", "account-2", [
      { type: "Opened", data: { owner: "bob" }, metadata: { correlationStreamName: "signup-9" } },
      { type: "Deposited", data: { amount: 10.5 } },
    ]);
    await call(a.url, a.token, "stream.write", "order-1", { type: "Placed", data: { s: "unicode ✓ é" } });
    const raw = await rpcRaw(a.url, '["stream.write","order-2",{"type":"Big","data":{"n":98765432109876543210987}}]', a.token);
    expect(raw.status).toBe(200);
    for (let i = 0; i < 20; i++) await call(a.url, a.token, "stream.write", `user-${i % 3}`, { type: "Seen", data: { i } });
  });

  const allOf = async (s: Server, token: string) => (await call(s.url, token, "category.get", "", { batchSize: -1 })) as any[][];

  test("export writes NDJSON in global order; import into another server reproduces every message", async () => {
    const file = join(tempDir(), "export.ndjson");
    const ex = await runCli(["export", "--url", a.url, "--token", a.token, "--output", file], { timeoutMs: 30000 });
    expect({ code: ex.code, stderr: ex.stderr }).toMatchObject({ code: 0 });
    const lines = readFileSync(file, "utf8").split("\n").filter((l) => l.length > 0);
    const source = await allOf(a, a.token);
    expect(lines).toHaveLength(source.length);
    // Not a terminal: plain progress lines with the count.
    expect(ex.stdout + ex.stderr).toMatch(new RegExp(`\\b${source.length}\\b`));
    const parsed = lines.map((l) => JSON.parse(l));
    for (const p of parsed) expect(Object.keys(p).sort()).toEqual(["data", "gpos", "id", "meta", "pos", "stream", "time", "type"]);
    expect(parsed.map((p) => p.gpos)).toEqual(source.map((m) => m[4]));
    expect(parsed[1]).toMatchObject({ stream: "account-2", pos: 0, meta: { correlationStreamName: "signup-9" } });
    expect(parsed[0].meta).toBeNull();
    expect(readFileSync(file, "utf8")).toContain("98765432109876543210987");

    const { token } = await newNamespace(b, "copy");
    const im = await runCli(["import", "--url", b.url, "--token", token, "--input", file], { timeoutMs: 30000 });
    expect({ code: im.code, stderr: im.stderr }).toMatchObject({ code: 0 });
    expect(await allOf(b, token)).toEqual(source);
    const big = await rpcRaw(b.url, '["stream.get","order-2"]', token);
    expect(big.text).toContain("98765432109876543210987");
    expect(await call(b.url, token, "stream.write", "account-1", { type: "T", data: {} })).toEqual({
      position: 1,
      globalPosition: source.length + 1,
    });

    // Importing the same file again collides; --force replaces.
    const clash = await runCli(["import", "--url", b.url, "--token", token, "--input", file], { timeoutMs: 30000 });
    expect(clash.code).not.toBe(0);
    expect(clash.stdout + clash.stderr).toContain("POSITION_EXISTS");
    const forced = await runCli(["import", "--url", b.url, "--token", token, "--input", file, "--force"], { timeoutMs: 30000 });
    expect(forced.code).toBe(0);
    expect(await allOf(b, token)).toEqual(source);
  });

  test("--categories filters; without --output the NDJSON goes to stdout (and nothing else does)", async () => {
    const ex = await runCli(["export", "--url", a.url, "--token", a.token, "--categories", "account,order"], { timeoutMs: 30000 });
    expect(ex.code).toBe(0);
    const parsed = ex.stdout
      .split("\n")
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l));
    const source = (await allOf(a, a.token)).filter((m) => ["account", "order"].includes(m[1].split("-")[0]));
    expect(parsed.map((p) => [p.id, p.gpos])).toEqual(source.map((m) => [m[0], m[4]]));
    expect(parsed.some((p) => p.stream.startsWith("user-"))).toBe(false);
  });

  test("--gzip round trip", async () => {
    const file = join(tempDir(), "export.ndjson.gz");
    const ex = await runCli(["export", "--url", a.url, "--token", a.token, "--output", file, "--gzip"], { timeoutMs: 30000 });
    expect(ex.code).toBe(0);
    const bytes = readFileSync(file);
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
    const { token } = await newNamespace(b, "gz");
    const im = await runCli(["import", "--url", b.url, "--token", token, "--input", file, "--gzip"], { timeoutMs: 30000 });
    expect({ code: im.code, stderr: im.stderr }).toMatchObject({ code: 0 });
    expect(await allOf(b, token)).toEqual(await allOf(a, a.token));
  });
});
