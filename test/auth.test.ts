// wire-protocol.md §2.1 (authentication, namespace administration) and §5 (token parse errors).
import { beforeAll, describe, expect, test } from "bun:test";
import {
  call,
  cleanupAfterAll,
  expectError,
  httpRequest,
  makeToken,
  rpc,
  rpcRaw,
  SseReader,
  subscribeUrl,
  startServer,
  TOKEN_RE,
  tokenNamespace,
  uniq,
  writeN,
  type HttpResult,
  type Server,
} from "./harness";

cleanupAfterAll();

const ZEROS = "0".repeat(64);
const WELL_KNOWN = `ns_ZGVmYXVsdA_${ZEROS}`;

/** Each malformed token and its §5 parse error. */
const PARSE_ERRORS: Array<[string, string]> = [
  ["abc", "invalid token format: missing 'ns_' prefix"],
  [`xx_ZGVmYXVsdA_${ZEROS}`, "invalid token format: missing 'ns_' prefix"],
  ["ns_abc", "invalid token format: expected 2 parts after prefix, got 1"],
  [`ns_ZGVmYXVsdA_${ZEROS}_1`, "invalid token format: expected 2 parts after prefix, got 3"],
  ["ns_ZGVmYXVsdA_abc", "invalid token format: random part must be 64 hex characters, got 3"],
  [`ns_ZGVmYXVsdA_${ZEROS}00`, "invalid token format: random part must be 64 hex characters, got 66"],
  [`ns_ZGVmYXVsdA_${"z".repeat(64)}`, "invalid token format: random part is not valid hexadecimal"],
  [`ns_!!!_${ZEROS}`, "invalid token format: namespace part is not valid base64url"],
  [`ns__${ZEROS}`, "invalid token format: namespace is empty"],
];

function rpcWith(url: string, headers: Record<string, string>, query = ""): Promise<HttpResult> {
  return httpRequest(`${url}/rpc${query}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(["stream.version", "auth-1"]),
  });
}

describe("normal mode", () => {
  let server: Server;
  const T = makeToken("default");
  beforeAll(async () => {
    server = await startServer({ testMode: false, args: ["--token", T] });
  });

  test("the printed token is the --token given", () => {
    expect(server.token).toBe(T);
  });

  test("no token → 401 AUTH_REQUIRED on /rpc, /subscribe and /import", async () => {
    expectError(await rpcWith(server.url, {}), 401, "AUTH_REQUIRED");
    const sub = await httpRequest(subscribeUrl(server.url, { all: true }));
    expectError(sub, 401, "AUTH_REQUIRED");
    const imp = await httpRequest(`${server.url}/import`, { method: "POST", body: "" });
    expectError(imp, 401, "AUTH_REQUIRED");
  });

  test("a header without the Bearer prefix, an empty bearer, or another scheme → 401 AUTH_REQUIRED", async () => {
    for (const h of [T, "Bearer ", "Bearer", `Basic ${T}`, `Token ${T}`]) {
      expectError(await rpcWith(server.url, { Authorization: h }), 401, "AUTH_REQUIRED");
    }
  });

  test("Authorization: Bearer <token> and ?token=<token> are both accepted", async () => {
    const h = await rpcWith(server.url, { Authorization: `Bearer ${T}` });
    expect(h.status).toBe(200);
    const q = await rpcWith(server.url, {}, `?token=${encodeURIComponent(T)}`);
    expect(q.status).toBe(200);
  });

  test("the query parameter wins over the header", async () => {
    const good = await rpcWith(server.url, { Authorization: "Bearer garbage" }, `?token=${T}`);
    expect(good.status).toBe(200);
    const bad = await rpcWith(server.url, { Authorization: `Bearer ${T}` }, "?token=garbage");
    expectError(bad, 401, "AUTH_INVALID_TOKEN", undefined, { error: "invalid token format: missing 'ns_' prefix" });
  });

  for (const [tok, err] of PARSE_ERRORS) {
    test(`unparseable token ${JSON.stringify(tok.slice(0, 24))}… → 401 AUTH_INVALID_TOKEN, details.error "${err}"`, async () => {
      expectError(await rpcWith(server.url, { Authorization: `Bearer ${tok}` }), 401, "AUTH_INVALID_TOKEN", undefined, { error: err });
    });
  }

  test("a wrong token for default → 403 AUTH_UNAUTHORIZED with details.namespace", async () => {
    for (const tok of [makeToken("default"), WELL_KNOWN, T.slice(0, -1) + (T.endsWith("0") ? "1" : "0")]) {
      expectError(
        await rpcWith(server.url, { Authorization: `Bearer ${tok}` }),
        403,
        "AUTH_UNAUTHORIZED",
        "Token not authorized for namespace",
        { namespace: "default" },
      );
    }
  });

  test("a token naming an unknown namespace → 403 AUTH_UNAUTHORIZED, details.namespace = that namespace", async () => {
    const r = await rpcWith(server.url, { Authorization: `Bearer ${makeToken("ghost")}` });
    expectError(r, 403, "AUTH_UNAUTHORIZED", "Token not authorized for namespace", { namespace: "ghost" });
    // Never auto-created in normal mode.
    expectError(await rpc(server.url, T, "ns.info", "ghost"), 404, "NAMESPACE_NOT_FOUND");
  });

  test("SSE auth errors are the JSON errors, before any SSE header", async () => {
    const bad = await httpRequest(subscribeUrl(server.url, { all: true }, "garbage"));
    expectError(bad, 401, "AUTH_INVALID_TOKEN", undefined, { error: "invalid token format: missing 'ns_' prefix" });
    const wrong = await httpRequest(subscribeUrl(server.url, { stream: "x-1" }, makeToken("default")));
    expectError(wrong, 403, "AUTH_UNAUTHORIZED", "Token not authorized for namespace", { namespace: "default" });
  });

  test("/health, /version, /metrics and unknown paths need no token", async () => {
    expect((await httpRequest(`${server.url}/health`)).status).toBe(200);
    expect((await httpRequest(`${server.url}/version`)).status).toBe(200);
    expect((await httpRequest(`${server.url}/metrics`)).status).toBe(200);
    expectError(await httpRequest(`${server.url}/elsewhere`), 404, "NOT_FOUND", "Endpoint not found");
  });

  describe("namespace administration", () => {
    let a: { ns: string; token: string };
    let b: { ns: string; token: string };
    beforeAll(async () => {
      const ra = await call(server.url, T, "ns.create", uniq("tenant-a"));
      const rb = await call(server.url, T, "ns.create", uniq("tenant-b"));
      a = { ns: ra.namespace, token: ra.token };
      b = { ns: rb.namespace, token: rb.token };
    });

    test("ns.create and ns.list need the default token", async () => {
      expectError(await rpc(server.url, a.token, "ns.create", uniq("sneaky")), 403, "AUTH_UNAUTHORIZED");
      expectError(await rpc(server.url, a.token, "ns.list"), 403, "AUTH_UNAUTHORIZED");
      expect((await call(server.url, T, "ns.list")).map((n: any) => n.namespace)).toEqual(expect.arrayContaining(["default", a.ns, b.ns]));
    });

    test("a tenant may ns.info its own namespace, not another", async () => {
      expect((await call(server.url, a.token, "ns.info", a.ns)).namespace).toBe(a.ns);
      expectError(await rpc(server.url, a.token, "ns.info", b.ns), 403, "AUTH_UNAUTHORIZED");
      expectError(await rpc(server.url, a.token, "ns.info", "default"), 403, "AUTH_UNAUTHORIZED");
      expect((await call(server.url, T, "ns.info", a.ns)).namespace).toBe(a.ns);
    });

    test("a tenant cannot ns.delete another namespace", async () => {
      expectError(await rpc(server.url, a.token, "ns.delete", b.ns), 403, "AUTH_UNAUTHORIZED");
      expectError(await rpc(server.url, a.token, "ns.delete", "default"), 403, "AUTH_UNAUTHORIZED");
      expect((await call(server.url, T, "ns.info", b.ns)).namespace).toBe(b.ns);
      expect(await call(server.url, b.token, "stream.version", "x-1")).toBeNull();
    });

    test("a tenant reads and writes only its own namespace", async () => {
      await writeN(server.url, a.token, "secret-1", 2);
      expect(await call(server.url, b.token, "stream.get", "secret-1")).toEqual([]);
      expect(await call(server.url, T, "stream.get", "secret-1")).toEqual([]);
      expect(await call(server.url, b.token, "category.get", "secret")).toEqual([]);
      expect(await call(server.url, a.token, "stream.get", "secret-1")).toHaveLength(2);
      expect((await call(server.url, T, "ns.info", a.ns)).messageCount).toBe(2);
      expect((await call(server.url, T, "ns.info", b.ns)).messageCount).toBe(0);
    });

    test("a tenant's subscription sees only its own namespace", async () => {
      const sub = await SseReader.open(server.url, { all: true }, b.token);
      try {
        expect((await sub.next()).type).toBe("comment");
        await writeN(server.url, a.token, "other-1", 1);
        await call(server.url, b.token, "stream.write", "mine-1", { type: "T", data: {} });
        const p = await sub.nextPoke();
        expect(p.stream).toBe("mine-1");
        await sub.expectNoPoke(200);
      } finally {
        sub.close();
      }
    });

    test("a tenant may ns.delete its own namespace; its token is then refused with 403", async () => {
      const c = await call(server.url, T, "ns.create", uniq("tenant-c"));
      await writeN(server.url, c.token, "x-1", 1);
      const d = await call(server.url, c.token, "ns.delete", c.namespace);
      expect(d.namespace).toBe(c.namespace);
      expect(d.messagesDeleted).toBe(1);
      expectError(await rpc(server.url, c.token, "stream.version", "x-1"), 403, "AUTH_UNAUTHORIZED", "Token not authorized for namespace", {
        namespace: c.namespace,
      });
    });

    test("the admin token can delete a tenant; the tenant's token is refused afterwards", async () => {
      const c = await call(server.url, T, "ns.create", uniq("tenant-d"));
      await call(server.url, T, "ns.delete", c.namespace);
      expectError(await rpc(server.url, c.token, "stream.version", "x-1"), 403, "AUTH_UNAUTHORIZED");
    });
  });
});

describe("test mode", () => {
  let server: Server;
  beforeAll(async () => {
    server = await startServer();
  });

  test("no token → a new namespace; its token in X-MessageDB-Token and X-EventoDB-Token; it keeps working", async () => {
    const r = await rpcRaw(server.url, JSON.stringify(["stream.write", "auto-1", { type: "T", data: { n: 1 } }]));
    expect(r.status).toBe(200);
    const tok = r.headers.get("x-messagedb-token");
    expect(tok).toMatch(TOKEN_RE);
    expect(r.headers.get("x-eventodb-token")).toBe(tok);
    const ns = tokenNamespace(tok!);
    expect(ns).not.toBe("default");
    expect(r.body).toEqual({ position: 0, globalPosition: 1 });
    // The client keeps using it: same namespace, data visible.
    const msgs = await call(server.url, tok, "stream.get", "auto-1");
    expect(msgs.map((m: any[]) => m[4])).toEqual([{ n: 1 }]);
    expect((await call(server.url, server.token, "ns.info", ns)).messageCount).toBe(1);
    // The default namespace did not get the write.
    expect(await call(server.url, server.token, "stream.get", "auto-1")).toEqual([]);
  });

  test("a header without Bearer is treated as no token", async () => {
    const r = await rpcWith(server.url, { Authorization: "not-bearer" });
    expect(r.status).toBe(200);
    expect(r.headers.get("x-messagedb-token")).toMatch(TOKEN_RE);
  });

  test("GET /subscribe without a token also creates a namespace and returns its token", async () => {
    const controller = new AbortController();
    const res = await fetch(subscribeUrl(server.url, { all: true }), { signal: controller.signal });
    try {
      expect(res.status).toBe(200);
      expect(res.headers.get("x-messagedb-token")).toMatch(TOKEN_RE);
      expect(res.headers.get("x-eventodb-token")).toBe(res.headers.get("x-messagedb-token"));
    } finally {
      controller.abort();
    }
  });

  test("an unparseable token → 401 AUTH_INVALID_TOKEN", async () => {
    for (const [tok] of PARSE_ERRORS.slice(0, 3)) {
      expectError(await rpcWith(server.url, { Authorization: `Bearer ${tok}` }), 401, "AUTH_INVALID_TOKEN");
    }
  });

  test("a valid token naming an unknown namespace creates it with that token", async () => {
    const ns = uniq("made");
    const tok = makeToken(ns);
    expect(await call(server.url, tok, "stream.write", "m-1", { type: "T", data: {} })).toEqual({ position: 0, globalPosition: 1 });
    const info = await call(server.url, server.token, "ns.info", ns);
    expect(info).toMatchObject({ namespace: ns, messageCount: 1 });
    expect(await call(server.url, tok, "stream.version", "m-1")).toBe(0);
  });

  test("an existing namespace is accepted without hash check", async () => {
    const ns = uniq("lax");
    const first = makeToken(ns);
    await call(server.url, first, "stream.write", "m-1", { type: "T", data: {} });
    const other = makeToken(ns);
    expect(await call(server.url, other, "stream.version", "m-1")).toBe(0);
    expect(await call(server.url, WELL_KNOWN, "sys.version")).toBe("0.7.0");
  });
});
