// wire-protocol.md §3: ns.create, ns.delete, ns.list, ns.info, ns.streams, ns.categories.
import { beforeAll, describe, expect, test } from "bun:test";
import {
  call,
  cleanupAfterAll,
  expectError,
  makeToken,
  newNamespace,
  rpc,
  startServer,
  TOKEN_RE,
  tokenNamespace,
  uniq,
  type Server,
} from "./harness";

cleanupAfterAll();

let server: Server;
beforeAll(async () => {
  server = await startServer();
});
const admin = (method: string, ...args: unknown[]) => rpc(server.url, server.token, method, ...args);
const adminCall = (method: string, ...args: unknown[]) => call(server.url, server.token, method, ...args);
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

describe("ns.create", () => {
  test("returns {namespace, token, createdAt}; the token names the namespace and works", async () => {
    const id = uniq("create");
    const before = Date.now();
    const r = await admin("ns.create", id);
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(["createdAt", "namespace", "token"]);
    expect(r.body.namespace).toBe(id);
    expect(r.body.token).toMatch(TOKEN_RE);
    expect(tokenNamespace(r.body.token)).toBe(id);
    expect(r.body.createdAt).toMatch(RFC3339);
    expect(Date.parse(r.body.createdAt)).toBeGreaterThanOrEqual(before - 2000);
    expect(await call(server.url, r.body.token, "stream.write", "s-1", { type: "T", data: {} })).toEqual({ position: 0, globalPosition: 1 });
  });

  test("options {description, token, metadata}: the given token is the namespace's token", async () => {
    const id = uniq("opts");
    const tok = makeToken(id);
    const r = await adminCall("ns.create", id, { description: "the opts one", token: tok, metadata: { team: "x" } });
    expect(r.namespace).toBe(id);
    expect(r.token).toBe(tok);
    const info = await adminCall("ns.info", id);
    expect(info.description).toBe("the opts one");
    expect(await call(server.url, tok, "stream.version", "s-1")).toBeNull();
  });

  test("namespaces are isolated: own streams, own global positions", async () => {
    const a = await newNamespace(server, "iso");
    const b = await newNamespace(server, "iso");
    expect(await call(server.url, a.token, "stream.write", "acct-1", { type: "T", data: { ns: "a" } })).toEqual({ position: 0, globalPosition: 1 });
    expect(await call(server.url, a.token, "stream.write", "acct-1", { type: "T", data: { ns: "a" } })).toEqual({ position: 1, globalPosition: 2 });
    expect(await call(server.url, b.token, "stream.get", "acct-1")).toEqual([]);
    expect(await call(server.url, b.token, "category.get", "")).toEqual([]);
    expect(await call(server.url, b.token, "stream.write", "acct-1", { type: "T", data: { ns: "b" } })).toEqual({ position: 0, globalPosition: 1 });
    expect((await call(server.url, a.token, "stream.get", "acct-1")).map((m: any[]) => m[4].ns)).toEqual(["a", "a"]);
  });

  test("ids of 1–128 chars of [A-Za-z0-9_.-] are accepted", async () => {
    for (const id of ["a", `Az09_.-${uniq("")}`, "x".repeat(100) + uniq("").padEnd(28, "y")]) {
      expect(id.length).toBeLessThanOrEqual(128);
      const r = await admin("ns.create", id);
      expect({ id, status: r.status, text: r.text }).toMatchObject({ status: 200 });
      expect(r.body.namespace).toBe(id);
    }
  });

  test('empty or non-string id → "namespace ID must be a non-empty string"', async () => {
    for (const args of [[""], [5], [null], [{}], []]) {
      expectError(await admin("ns.create", ...args), 400, "INVALID_REQUEST", "namespace ID must be a non-empty string");
    }
  });

  test("ids outside [A-Za-z0-9_.-] or over 128 chars → 400 INVALID_REQUEST", async () => {
    for (const id of ["a b", "a/b", "ü", "a;drop", "a\"b", "x".repeat(129), "tab\tid", "new\nline", "a*"]) {
      const r = await admin("ns.create", id);
      expectError(r, 400, "INVALID_REQUEST");
    }
  });

  const optionErrors: Array<[string, Record<string, unknown>, string]> = [
    ["numeric description", { description: 5 }, "options.description must be a string"],
    ["numeric token", { token: 5 }, "options.token must be a string"],
    ["object metadata as string", { metadata: "m" }, "options.metadata must be an object"],
    ["array metadata", { metadata: [1] }, "options.metadata must be an object"],
  ];
  for (const [what, options, message] of optionErrors) {
    test(`${what} → "${message}"`, async () => {
      expectError(await admin("ns.create", uniq("bad"), options), 400, "INVALID_REQUEST", message);
    });
  }

  test('a malformed options.token → "Invalid token format: <parse error>" (each §5 error)', async () => {
    const zeros = "0".repeat(64);
    const cases: Array<[string, string]> = [
      ["abc", "invalid token format: missing 'ns_' prefix"],
      ["ns_abc", "invalid token format: expected 2 parts after prefix, got 1"],
      [`ns_YQ_${zeros}_x`, "invalid token format: expected 2 parts after prefix, got 3"],
      ["ns_YQ_abc", "invalid token format: random part must be 64 hex characters, got 3"],
      [`ns_YQ_${"g".repeat(64)}`, "invalid token format: random part is not valid hexadecimal"],
      [`ns_!!!_${zeros}`, "invalid token format: namespace part is not valid base64url"],
      [`ns__${zeros}`, "invalid token format: namespace is empty"],
    ];
    const id = uniq("tok");
    for (const [tok, err] of cases) {
      expectError(await admin("ns.create", id, { token: tok }), 400, "INVALID_REQUEST", `Invalid token format: ${err}`);
    }
  });

  test("a token for another namespace → \"Token is for namespace '<t>', not '<id>'\"", async () => {
    const id = uniq("mine");
    const r = await admin("ns.create", id, { token: makeToken("theirs") });
    expectError(r, 400, "INVALID_REQUEST", `Token is for namespace 'theirs', not '${id}'`);
    expectError(await admin("ns.info", id), 404, "NAMESPACE_NOT_FOUND");
  });

  test("an existing namespace → 409 NAMESPACE_EXISTS \"Namespace '<id>' already exists\"", async () => {
    const { ns } = await newNamespace(server, "twice");
    expectError(await admin("ns.create", ns), 409, "NAMESPACE_EXISTS", `Namespace '${ns}' already exists`);
    expectError(await admin("ns.create", "default"), 409, "NAMESPACE_EXISTS", "Namespace 'default' already exists");
  });
});

describe("ns.delete", () => {
  test("returns {namespace, deletedAt, messagesDeleted} with the real count; the namespace is gone", async () => {
    const { ns, token } = await newNamespace(server, "del");
    await call(server.url, token, "stream.write", "a-1", { type: "T", data: {} });
    await call(server.url, token, "stream.writeBatch", "a-2", [{ type: "T", data: {} }, { type: "T", data: {} }]);
    const r = await admin("ns.delete", ns);
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(["deletedAt", "messagesDeleted", "namespace"]);
    expect(r.body.namespace).toBe(ns);
    expect(r.body.messagesDeleted).toBe(3);
    expect(r.body.deletedAt).toMatch(RFC3339);
    expectError(await admin("ns.info", ns), 404, "NAMESPACE_NOT_FOUND", `Namespace '${ns}' not found`);
    expect((await adminCall("ns.list")).map((n: any) => n.namespace)).not.toContain(ns);
    expectError(await admin("ns.delete", ns), 404, "NAMESPACE_NOT_FOUND", `Namespace '${ns}' not found`);
  });

  test("an empty namespace deletes with messagesDeleted 0; re-created it starts empty", async () => {
    const { ns, token } = await newNamespace(server, "del");
    await call(server.url, token, "stream.write", "a-1", { type: "T", data: {} });
    await adminCall("ns.delete", ns);
    const again = await adminCall("ns.create", ns);
    expect(await call(server.url, again.token, "stream.get", "a-1")).toEqual([]);
    expect(await call(server.url, again.token, "stream.write", "a-1", { type: "T", data: {} })).toEqual({ position: 0, globalPosition: 1 });
    const { ns: empty } = await newNamespace(server, "del");
    expect((await adminCall("ns.delete", empty)).messagesDeleted).toBe(0);
  });

  test("unknown → 404 NAMESPACE_NOT_FOUND \"Namespace '<id>' not found\"", async () => {
    expectError(await admin("ns.delete", "no-such-ns"), 404, "NAMESPACE_NOT_FOUND", "Namespace 'no-such-ns' not found");
  });
});

describe("ns.list and ns.info", () => {
  test("ns.list: [{namespace, description, createdAt, messageCount}], newest first, real counts", async () => {
    const a = await adminCall("ns.create", uniq("list"), { description: "first" });
    await Bun.sleep(5); // distinct creation times
    const b = await adminCall("ns.create", uniq("list"), { description: "second" });
    await call(server.url, b.token, "stream.writeBatch", "x-1", [{ type: "T", data: {} }, { type: "T", data: {} }]);
    const list = await adminCall("ns.list");
    expect(Array.isArray(list)).toBe(true);
    const names = list.map((n: any) => n.namespace);
    expect(names).toContain("default");
    expect(names.indexOf(b.namespace)).toBeLessThan(names.indexOf(a.namespace));
    const eb = list.find((n: any) => n.namespace === b.namespace);
    expect(Object.keys(eb).sort()).toEqual(["createdAt", "description", "messageCount", "namespace"]);
    expect(eb).toMatchObject({ description: "second", messageCount: 2 });
    expect(list.find((n: any) => n.namespace === a.namespace)).toMatchObject({ description: "first", messageCount: 0 });
    for (let i = 1; i < list.length; i++) {
      expect(Date.parse(list[i - 1].createdAt)).toBeGreaterThanOrEqual(Date.parse(list[i].createdAt));
    }
  });

  test("ns.info: real messageCount and streamCount; lastActivity null when empty, then the last write's time", async () => {
    const { ns, token } = await newNamespace(server, "info");
    const empty = await adminCall("ns.info", ns);
    expect(Object.keys(empty).sort()).toEqual(["createdAt", "description", "lastActivity", "messageCount", "namespace", "streamCount"]);
    expect(empty).toMatchObject({ namespace: ns, messageCount: 0, streamCount: 0, lastActivity: null });
    expect(empty.createdAt).toMatch(RFC3339);
    await call(server.url, token, "stream.write", "a-1", { type: "T", data: {} });
    await call(server.url, token, "stream.write", "a-1", { type: "T", data: {} });
    await call(server.url, token, "stream.write", "b-1", { type: "T", data: {} });
    const info = await adminCall("ns.info", ns);
    expect(info).toMatchObject({ namespace: ns, messageCount: 3, streamCount: 2 });
    const last = await call(server.url, token, "stream.last", "b-1");
    expect(info.lastActivity).toMatch(RFC3339);
    expect(Date.parse(info.lastActivity)).toBe(Date.parse(last[6]));
  });

  test("ns.info unknown → 404 NAMESPACE_NOT_FOUND", async () => {
    expectError(await admin("ns.info", "ghost-ns"), 404, "NAMESPACE_NOT_FOUND", "Namespace 'ghost-ns' not found");
  });
});

describe("ns.streams and ns.categories", () => {
  let token: string;
  const STREAMS = ["b-1", "a-2", "a-10", "a-1", "B-1", "ab", "a_x", "a-2", "a-2"];
  beforeAll(async () => {
    token = (await newNamespace(server, "streams")).token;
    for (const s of STREAMS) await call(server.url, token, "stream.write", s, { type: "T", data: {} });
  });
  const streams = (options?: unknown) =>
    options === undefined ? call(server.url, token, "ns.streams") : call(server.url, token, "ns.streams", options);
  const names = (xs: any[]) => xs.map((x) => x.stream);

  test("[{stream, version, lastActivity}] sorted by name in byte order", async () => {
    const xs = await streams();
    expect(names(xs)).toEqual(["B-1", "a-1", "a-10", "a-2", "a_x", "ab", "b-1"]);
    const a2 = xs.find((x: any) => x.stream === "a-2");
    expect(Object.keys(a2).sort()).toEqual(["lastActivity", "stream", "version"]);
    expect(a2.version).toBe(2);
    expect(xs.find((x: any) => x.stream === "ab").version).toBe(0);
    const last = await call(server.url, token, "stream.last", "a-2");
    expect(Date.parse(a2.lastActivity)).toBe(Date.parse(last[6]));
  });

  test("prefix is a plain prefix: no wildcards", async () => {
    expect(names(await streams({ prefix: "a-" }))).toEqual(["a-1", "a-10", "a-2"]);
    expect(names(await streams({ prefix: "a_" }))).toEqual(["a_x"]);
    expect(names(await streams({ prefix: "a%" }))).toEqual([]);
    expect(names(await streams({ prefix: "A" }))).toEqual([]);
    expect(names(await streams({ prefix: "" }))).toHaveLength(7);
  });

  test("limit and an exclusive cursor page through every stream", async () => {
    expect(names(await streams({ limit: 2 }))).toEqual(["B-1", "a-1"]);
    expect(names(await streams({ cursor: "a-10" }))).toEqual(["a-2", "a_x", "ab", "b-1"]);
    expect(names(await streams({ cursor: "a-10", limit: 1 }))).toEqual(["a-2"]);
    expect(names(await streams({ prefix: "a-", cursor: "a-1" }))).toEqual(["a-10", "a-2"]);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await streams(cursor === undefined ? { limit: 3 } : { limit: 3, cursor });
      if (page.length === 0) break;
      seen.push(...names(page));
      cursor = page[page.length - 1].stream;
    }
    expect(seen).toEqual(["B-1", "a-1", "a-10", "a-2", "a_x", "ab", "b-1"]);
  });

  test("limit defaults to 100 and accepts 1000", async () => {
    const t = (await newNamespace(server, "many")).token;
    await Promise.all(
      Array.from({ length: 105 }, (_, i) => call(server.url, t, "stream.write", `s-${String(i).padStart(3, "0")}`, { type: "T", data: {} })),
    );
    const def = await call(server.url, t, "ns.streams");
    expect(def).toHaveLength(100);
    expect(def[0].stream).toBe("s-000");
    expect(def[99].stream).toBe("s-099");
    expect(await call(server.url, t, "ns.streams", { limit: 1000 })).toHaveLength(105);
  });

  const errors: Array<[unknown, string]> = [
    ["x", "options must be an object"],
    [7, "options must be an object"],
    [{ prefix: 5 }, "prefix must be a string"],
    [{ cursor: 5 }, "cursor must be a string"],
    [{ limit: "10" }, "limit must be a number"],
    [{ limit: 0 }, "limit must be between 1 and 1000"],
    [{ limit: -1 }, "limit must be between 1 and 1000"],
    [{ limit: 1001 }, "limit must be between 1 and 1000"],
  ];
  for (const [options, message] of errors) {
    test(`ns.streams ${JSON.stringify(options)} → "${message}"`, async () => {
      expectError(await rpc(server.url, token, "ns.streams", options), 400, "INVALID_REQUEST", message);
    });
  }

  test("ns.categories: [{category, streamCount, messageCount}] sorted by category", async () => {
    const cats = await call(server.url, token, "ns.categories");
    expect(cats).toEqual([
      { category: "B", streamCount: 1, messageCount: 1 },
      { category: "a", streamCount: 3, messageCount: 5 },
      { category: "a_x", streamCount: 1, messageCount: 1 },
      { category: "ab", streamCount: 1, messageCount: 1 },
      { category: "b", streamCount: 1, messageCount: 1 },
    ]);
  });

  test("ns.streams / ns.categories of an empty namespace → []", async () => {
    const t = (await newNamespace(server, "empty")).token;
    expect(await call(server.url, t, "ns.streams")).toEqual([]);
    expect(await call(server.url, t, "ns.categories")).toEqual([]);
  });
});
