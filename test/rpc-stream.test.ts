// wire-protocol.md §3: stream.write, stream.writeBatch, stream.get, stream.last, stream.version.
import { beforeAll, describe, expect, test } from "bun:test";
import {
  call,
  cleanupAfterAll,
  expectError,
  newNamespace,
  randomUuid,
  rpc,
  rpcRaw,
  startServer,
  TIME_RE,
  UUID7_RE,
  type Server,
} from "./harness";

cleanupAfterAll();

let server: Server;
beforeAll(async () => {
  server = await startServer();
});

/** A fresh namespace per test keeps global positions predictable. */
async function fresh() {
  const { token } = await newNamespace(server, "stream");
  return {
    token,
    rpc: (method: string, ...args: unknown[]) => rpc(server.url, token, method, ...args),
    call: (method: string, ...args: unknown[]) => call(server.url, token, method, ...args),
  };
}

describe("stream.write", () => {
  test("returns {position, globalPosition}: positions per stream, global positions per namespace from 1", async () => {
    const c = await fresh();
    const a = await c.rpc("stream.write", "account-1", { type: "Opened", data: { n: 1 } });
    expect(a.status).toBe(200);
    expect(a.body).toEqual({ position: 0, globalPosition: 1 });
    expect(await c.call("stream.write", "account-2", { type: "Opened", data: {} })).toEqual({ position: 0, globalPosition: 2 });
    expect(await c.call("stream.write", "account-1", { type: "Deposited", data: {} })).toEqual({ position: 1, globalPosition: 3 });
    expect(await c.call("stream.write", "account-1", { type: "Deposited", data: {} })).toEqual({ position: 2, globalPosition: 4 });
  });

  test("the message reads back as [id, type, position, globalPosition, data, metadata, time]", async () => {
    const c = await fresh();
    const id = randomUuid();
    const before = Date.now();
    await c.call("stream.write", "order-9", { type: "Placed", data: { sku: "A1", qty: 2 }, metadata: { correlationStreamName: "cart-1" } }, { id });
    const msgs = await c.call("stream.get", "order-9");
    expect(msgs).toHaveLength(1);
    const m = msgs[0];
    expect(m).toHaveLength(7);
    expect(m.slice(0, 6)).toEqual([id, "Placed", 0, 1, { sku: "A1", qty: 2 }, { correlationStreamName: "cart-1" }]);
    expect(m[6]).toMatch(TIME_RE);
    const t = Date.parse(m[6]);
    expect(t).toBeGreaterThanOrEqual(before - 2000);
    expect(t).toBeLessThanOrEqual(Date.now() + 2000);
  });

  test("metadata absent or null reads back as null", async () => {
    const c = await fresh();
    await c.call("stream.write", "m-1", { type: "A", data: {} });
    await c.call("stream.write", "m-1", { type: "B", data: {}, metadata: null });
    await c.call("stream.write", "m-1", { type: "C", data: {}, metadata: {} });
    const msgs = await c.call("stream.get", "m-1");
    expect(msgs.map((m: any[]) => m[5])).toEqual([null, null, {}]);
  });

  test("id absent or \"\" → a generated UUIDv7, distinct per message", async () => {
    const c = await fresh();
    await c.call("stream.write", "gen-1", { type: "A", data: {} });
    await c.call("stream.write", "gen-1", { type: "A", data: {} }, { id: "" });
    await c.call("stream.write", "gen-1", { type: "A", data: {} }, {});
    const ids = (await c.call("stream.get", "gen-1")).map((m: any[]) => m[0]);
    expect(ids).toHaveLength(3);
    for (const id of ids) expect(id).toMatch(UUID7_RE);
    expect(new Set(ids).size).toBe(3);
  });

  test("JSON values round-trip exactly, integers beyond 2^53 included", async () => {
    const c = await fresh();
    const raw =
      '["stream.write","json-1",{"type":"J","data":{"big":12345678901234567890123,"u64":18446744073709551615,' +
      '"neg":-9223372036854775809,"exact":9007199254740993,"f":0.1,"s":"h\\u00e9llo \\u2713 \\ud83d\\ude00 \\"q\\" \\\\","nested":{"a":[1,{"b":null},true,false]},"empty":{},"arr":[]}}]';
    const w = await rpcRaw(server.url, raw, c.token);
    expect(w.status).toBe(200);
    const r = await rpcRaw(server.url, '["stream.get","json-1"]', c.token);
    expect(r.status).toBe(200);
    for (const digits of ["12345678901234567890123", "18446744073709551615", "-9223372036854775809", "9007199254740993"]) {
      expect(r.text).toContain(digits);
    }
    const data = r.body[0][4];
    expect(data.f).toBe(0.1);
    expect(data.s).toBe('héllo ✓ 😀 "q" \\');
    expect(data.nested).toEqual({ a: [1, { b: null }, true, false] });
    expect(data.empty).toEqual({});
    expect(data.arr).toEqual([]);
  });

  test("expectedVersion -1 = the stream must not exist", async () => {
    const c = await fresh();
    expect(await c.call("stream.write", "ev-1", { type: "A", data: {} }, { expectedVersion: -1 })).toEqual({ position: 0, globalPosition: 1 });
    const r = await c.rpc("stream.write", "ev-1", { type: "A", data: {} }, { expectedVersion: -1 });
    expectError(r, 409, "STREAM_VERSION_CONFLICT", "Expected version -1, stream is at version 0", { expected: -1, actual: 0 });
  });

  test("expectedVersion matching the version writes; a mismatch → 409 with {expected, actual} and writes nothing", async () => {
    const c = await fresh();
    await c.call("stream.write", "ev-2", { type: "A", data: {} });
    await c.call("stream.write", "ev-2", { type: "A", data: {} }, { expectedVersion: 0 });
    const r = await c.rpc("stream.write", "ev-2", { type: "A", data: {} }, { expectedVersion: 5 });
    expectError(r, 409, "STREAM_VERSION_CONFLICT", "Expected version 5, stream is at version 1", { expected: 5, actual: 1 });
    const r0 = await c.rpc("stream.write", "ev-2", { type: "A", data: {} }, { expectedVersion: 0 });
    expectError(r0, 409, "STREAM_VERSION_CONFLICT", "Expected version 0, stream is at version 1", { expected: 0, actual: 1 });
    expect(await c.call("stream.version", "ev-2")).toBe(1);
    expect(await c.call("stream.write", "ev-2", { type: "A", data: {} }, { expectedVersion: 1 })).toEqual({ position: 2, globalPosition: 3 });
  });

  test("expectedVersion 0 on a stream that does not exist → 409, actual -1", async () => {
    const c = await fresh();
    const r = await c.rpc("stream.write", "ev-3", { type: "A", data: {} }, { expectedVersion: 0 });
    expectError(r, 409, "STREAM_VERSION_CONFLICT", "Expected version 0, stream is at version -1", { expected: 0, actual: -1 });
    expect(await c.call("stream.get", "ev-3")).toEqual([]);
  });

  test("a duplicate message id → 409 DUPLICATE_MESSAGE_ID and nothing written", async () => {
    const c = await fresh();
    const id = randomUuid();
    await c.call("stream.write", "dup-1", { type: "A", data: {} }, { id });
    const same = await c.rpc("stream.write", "dup-1", { type: "A", data: {} }, { id });
    expectError(same, 409, "DUPLICATE_MESSAGE_ID");
    const other = await c.rpc("stream.write", "dup-2", { type: "A", data: {} }, { id });
    expectError(other, 409, "DUPLICATE_MESSAGE_ID");
    expect(await c.call("stream.version", "dup-1")).toBe(0);
    expect(await c.call("stream.get", "dup-2")).toEqual([]);
    // Still usable afterwards.
    expect((await c.call("stream.write", "dup-2", { type: "A", data: {} })).position).toBe(0);
  });

  describe("argument rules (400 INVALID_REQUEST, exact messages)", () => {
    const M = { type: "T", data: {} };
    const cases: Array<[string, unknown[], string]> = [
      ["no arguments", [], "stream.write requires at least 2 arguments: streamName and message"],
      ["one argument", ["s-1"], "stream.write requires at least 2 arguments: streamName and message"],
      ["empty streamName", ["", M], "streamName must be a non-empty string"],
      ["numeric streamName", [5, M], "streamName must be a non-empty string"],
      ["null streamName", [null, M], "streamName must be a non-empty string"],
      ["object streamName", [{}, M], "streamName must be a non-empty string"],
      ["string message", ["s-1", "hello"], "message must be an object"],
      ["array message", ["s-1", [M]], "message must be an object"],
      ["null message", ["s-1", null], "message must be an object"],
      ["numeric message", ["s-1", 3], "message must be an object"],
      ["missing type", ["s-1", { data: {} }], "message.type must be a non-empty string"],
      ["empty type", ["s-1", { type: "", data: {} }], "message.type must be a non-empty string"],
      ["numeric type", ["s-1", { type: 7, data: {} }], "message.type must be a non-empty string"],
      ["missing data", ["s-1", { type: "T" }], "message.data must be an object"],
      ["string data", ["s-1", { type: "T", data: "x" }], "message.data must be an object"],
      ["array data", ["s-1", { type: "T", data: [1] }], "message.data must be an object"],
      ["null data", ["s-1", { type: "T", data: null }], "message.data must be an object"],
      ["string metadata", ["s-1", { type: "T", data: {}, metadata: "m" }], "message.metadata must be an object"],
      ["numeric metadata", ["s-1", { type: "T", data: {}, metadata: 1 }], "message.metadata must be an object"],
      ["array metadata", ["s-1", { type: "T", data: {}, metadata: [] }], "message.metadata must be an object"],
      ["string options", ["s-1", M, "opts"], "options must be an object"],
      ["numeric options", ["s-1", M, 1], "options must be an object"],
      ["array options", ["s-1", M, []], "options must be an object"],
      ["numeric id", ["s-1", M, { id: 5 }], "options.id must be a string"],
      ["non-UUID id", ["s-1", M, { id: "not-a-uuid" }], "options.id must be a UUID"],
      ["string expectedVersion", ["s-1", M, { expectedVersion: "1" }], "options.expectedVersion must be a number"],
      ["boolean expectedVersion", ["s-1", M, { expectedVersion: true }], "options.expectedVersion must be a number"],
    ];
    for (const [what, args, message] of cases) {
      test(`${what} → "${message}"`, async () => {
        const r = await rpc(server.url, server.token, "stream.write", ...args);
        expectError(r, 400, "INVALID_REQUEST", message);
      });
    }

    test("a rejected write writes nothing", async () => {
      const c = await fresh();
      await c.rpc("stream.write", "rej-1", { type: "", data: {} });
      await c.rpc("stream.write", "rej-1", { type: "T", data: {} }, { id: "zzz" });
      expect(await c.call("stream.version", "rej-1")).toBeNull();
      expect(await c.call("stream.write", "rej-1", { type: "T", data: {} })).toEqual({ position: 0, globalPosition: 1 });
    });
  });
});

describe("stream.writeBatch", () => {
  test("writes contiguous positions atomically and returns first and last positions", async () => {
    const c = await fresh();
    await c.call("stream.write", "other-1", { type: "X", data: {} });
    const ids = [randomUuid(), randomUuid(), randomUuid()];
    const r = await c.rpc("stream.writeBatch", "batch-1", [
      { type: "A", data: { i: 0 }, id: ids[0] },
      { type: "B", data: { i: 1 }, metadata: { m: 1 }, id: ids[1] },
      { type: "C", data: { i: 2 }, id: ids[2] },
    ]);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ position: 0, globalPosition: 2, lastPosition: 2, lastGlobalPosition: 4 });
    const msgs = await c.call("stream.get", "batch-1");
    expect(msgs.map((m: any[]) => m.slice(0, 6))).toEqual([
      [ids[0], "A", 0, 2, { i: 0 }, null],
      [ids[1], "B", 1, 3, { i: 1 }, { m: 1 }],
      [ids[2], "C", 2, 4, { i: 2 }, null],
    ]);
    const next = await c.call("stream.writeBatch", "batch-1", [{ type: "D", data: {} }], { expectedVersion: 2 });
    expect(next).toEqual({ position: 3, globalPosition: 5, lastPosition: 3, lastGlobalPosition: 5 });
    expect((await c.call("stream.get", "batch-1"))[3][0]).toMatch(UUID7_RE);
  });

  test("expectedVersion mismatch → 409 with {expected, actual}; nothing of the batch is written", async () => {
    const c = await fresh();
    await c.call("stream.write", "batch-2", { type: "A", data: {} });
    const r = await c.rpc("stream.writeBatch", "batch-2", [{ type: "B", data: {} }, { type: "C", data: {} }], { expectedVersion: -1 });
    expectError(r, 409, "STREAM_VERSION_CONFLICT", "Expected version -1, stream is at version 0", { expected: -1, actual: 0 });
    expect(await c.call("stream.version", "batch-2")).toBe(0);
  });

  test("a duplicate id (within the batch or already stored) → 409 DUPLICATE_MESSAGE_ID; nothing written", async () => {
    const c = await fresh();
    const id = randomUuid();
    const inBatch = await c.rpc("stream.writeBatch", "batch-3", [
      { type: "A", data: {}, id },
      { type: "B", data: {}, id },
    ]);
    expectError(inBatch, 409, "DUPLICATE_MESSAGE_ID");
    expect(await c.call("stream.version", "batch-3")).toBeNull();
    await c.call("stream.write", "batch-4", { type: "A", data: {} }, { id });
    const stored = await c.rpc("stream.writeBatch", "batch-3", [{ type: "A", data: {} }, { type: "B", data: {}, id }]);
    expectError(stored, 409, "DUPLICATE_MESSAGE_ID");
    expect(await c.call("stream.version", "batch-3")).toBeNull();
  });

  test("an invalid message anywhere in the batch → 400 INVALID_REQUEST; nothing written", async () => {
    const c = await fresh();
    const r = await c.rpc("stream.writeBatch", "batch-5", [{ type: "A", data: {} }, { type: "", data: {} }]);
    expectError(r, 400, "INVALID_REQUEST");
    const r2 = await c.rpc("stream.writeBatch", "batch-5", [{ type: "A", data: {} }, { type: "B", data: 5 }]);
    expectError(r2, 400, "INVALID_REQUEST");
    const r3 = await c.rpc("stream.writeBatch", "batch-5", [{ type: "A", data: {}, id: "nope" }]);
    expectError(r3, 400, "INVALID_REQUEST");
    expect(await c.call("stream.version", "batch-5")).toBeNull();
  });

  test("messages not an array, an empty batch, or a bad stream name → 400 INVALID_REQUEST", async () => {
    expectError(await rpc(server.url, server.token, "stream.writeBatch", "batch-6", { type: "A", data: {} }), 400, "INVALID_REQUEST");
    expectError(await rpc(server.url, server.token, "stream.writeBatch", "batch-6", []), 400, "INVALID_REQUEST");
    expectError(await rpc(server.url, server.token, "stream.writeBatch", "", [{ type: "A", data: {} }]), 400, "INVALID_REQUEST");
    expectError(await rpc(server.url, server.token, "stream.writeBatch", "batch-6"), 400, "INVALID_REQUEST");
  });
});

describe("stream.get", () => {
  let c: Awaited<ReturnType<typeof fresh>>;
  beforeAll(async () => {
    c = await fresh();
    // acct-1 gets positions 0..4 at global positions 1,3,5,7,9; acct-2 the even ones.
    for (let i = 0; i < 5; i++) {
      await c.call("stream.write", "acct-1", { type: "T", data: { i } });
      await c.call("stream.write", "acct-2", { type: "T", data: { i } });
    }
  });

  const positions = (msgs: any[][]) => msgs.map((m) => m[2]);
  const globals = (msgs: any[][]) => msgs.map((m) => m[3]);

  test("returns the stream's messages in position order, nothing of other streams", async () => {
    const msgs = await c.call("stream.get", "acct-1");
    expect(positions(msgs)).toEqual([0, 1, 2, 3, 4]);
    expect(globals(msgs)).toEqual([1, 3, 5, 7, 9]);
    expect(msgs.map((m: any[]) => m[4].i)).toEqual([0, 1, 2, 3, 4]);
    for (const m of msgs) expect(m).toHaveLength(7);
  });

  test("position is an inclusive stream position; negative = from the start", async () => {
    expect(positions(await c.call("stream.get", "acct-1", { position: 2 }))).toEqual([2, 3, 4]);
    expect(positions(await c.call("stream.get", "acct-1", { position: 0 }))).toEqual([0, 1, 2, 3, 4]);
    expect(positions(await c.call("stream.get", "acct-1", { position: -3 }))).toEqual([0, 1, 2, 3, 4]);
    expect(await c.call("stream.get", "acct-1", { position: 5 })).toEqual([]);
  });

  test("globalPosition (≥) replaces position, still ordered by position", async () => {
    expect(globals(await c.call("stream.get", "acct-1", { globalPosition: 4 }))).toEqual([5, 7, 9]);
    expect(globals(await c.call("stream.get", "acct-1", { globalPosition: 5 }))).toEqual([5, 7, 9]);
    expect(globals(await c.call("stream.get", "acct-1", { position: 0, globalPosition: 8 }))).toEqual([9]);
    expect(globals(await c.call("stream.get", "acct-1", { position: 4, globalPosition: 1 }))).toEqual([1, 3, 5, 7, 9]);
  });

  test("batchSize limits the count", async () => {
    expect(positions(await c.call("stream.get", "acct-1", { batchSize: 2 }))).toEqual([0, 1]);
    expect(positions(await c.call("stream.get", "acct-1", { position: 1, batchSize: 3 }))).toEqual([1, 2, 3]);
    expect(positions(await c.call("stream.get", "acct-1", { batchSize: 10000 }))).toEqual([0, 1, 2, 3, 4]);
  });

  test("batchSize > 10000 → 400 \"options.batchSize must be <= 10000 or -1 for unlimited\"", async () => {
    for (const batchSize of [10001, 1e9]) {
      const r = await c.rpc("stream.get", "acct-1", { batchSize });
      expectError(r, 400, "INVALID_REQUEST", "options.batchSize must be <= 10000 or -1 for unlimited");
    }
  });

  test("unknown stream → []", async () => {
    expect(await c.call("stream.get", "nobody-here")).toEqual([]);
    // A category name is not a stream.
    expect(await c.call("stream.get", "acct")).toEqual([]);
  });

  for (const key of ["position", "globalPosition", "batchSize"]) {
    test(`non-number ${key} → "options.${key} must be a number"`, async () => {
      for (const v of ["1", true, {}, [1]]) {
        const r = await c.rpc("stream.get", "acct-1", { [key]: v });
        expectError(r, 400, "INVALID_REQUEST", `options.${key} must be a number`);
      }
    });
  }

  test("default batchSize is 1000; -1, 0 and any negative batchSize are unlimited", async () => {
    const d = await fresh();
    const msgs = Array.from({ length: 1005 }, (_, i) => ({ type: "T", data: { i } }));
    const w = await d.call("stream.writeBatch", "big-1", msgs);
    expect(w).toEqual({ position: 0, globalPosition: 1, lastPosition: 1004, lastGlobalPosition: 1005 });
    const def = await d.call("stream.get", "big-1");
    expect(def).toHaveLength(1000);
    expect(def[999][2]).toBe(999);
    for (const batchSize of [-1, 0, -7]) {
      const all = await d.call("stream.get", "big-1", { batchSize });
      expect(all).toHaveLength(1005);
      expect(all[1004][2]).toBe(1004);
    }
    expect(await d.call("stream.get", "big-1", { position: 1000 })).toHaveLength(5);
  });
});

describe("stream.last and stream.version", () => {
  let c: Awaited<ReturnType<typeof fresh>>;
  beforeAll(async () => {
    c = await fresh();
    await c.call("stream.write", "last-1", { type: "Opened", data: { n: 0 } });
    await c.call("stream.write", "last-1", { type: "Deposited", data: { n: 1 } });
    await c.call("stream.write", "last-1", { type: "Withdrawn", data: { n: 2 } });
    await c.call("stream.write", "last-1", { type: "Deposited", data: { n: 3 }, metadata: { k: "v" } });
    await c.call("stream.write", "last-1", { type: "Closed", data: { n: 4 } });
  });

  test("stream.last returns the last message as a 7-element stream message", async () => {
    const m = await c.call("stream.last", "last-1");
    expect(m).toHaveLength(7);
    expect(m.slice(1, 6)).toEqual(["Closed", 4, 5, { n: 4 }, null]);
    expect(m[6]).toMatch(TIME_RE);
  });

  test("stream.last with type returns the last message of that type; \"\" = no filter", async () => {
    expect((await c.call("stream.last", "last-1", { type: "Deposited" })).slice(1, 6)).toEqual(["Deposited", 3, 4, { n: 3 }, { k: "v" }]);
    expect((await c.call("stream.last", "last-1", { type: "Opened" }))[2]).toBe(0);
    expect((await c.call("stream.last", "last-1", { type: "" }))[2]).toBe(4);
    expect(await c.call("stream.last", "last-1", { type: "Nope" })).toBeNull();
  });

  test("stream.last of an unknown stream → null", async () => {
    const r = await c.rpc("stream.last", "none-1");
    expect(r.status).toBe(200);
    expect(r.text.trim()).toBe("null");
  });

  test('stream.last with a non-string type → "options.type must be a string"', async () => {
    for (const type of [5, true, {}]) {
      expectError(await c.rpc("stream.last", "last-1", { type }), 400, "INVALID_REQUEST", "options.type must be a string");
    }
  });

  test("stream.version is the last position, null for an unknown stream", async () => {
    expect(await c.call("stream.version", "last-1")).toBe(4);
    const r = await c.rpc("stream.version", "none-2");
    expect(r.status).toBe(200);
    expect(r.text.trim()).toBe("null");
    await c.call("stream.write", "ver-1", { type: "T", data: {} });
    expect(await c.call("stream.version", "ver-1")).toBe(0);
  });

  test("stream.get / stream.last / stream.version without a stream name → 400 INVALID_REQUEST", async () => {
    for (const m of ["stream.get", "stream.last", "stream.version"]) {
      expectError(await c.rpc(m), 400, "INVALID_REQUEST");
      expectError(await c.rpc(m, 42), 400, "INVALID_REQUEST");
    }
  });
});
