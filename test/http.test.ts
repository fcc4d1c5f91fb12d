// wire-protocol.md §2 and §3 (envelope): the plain HTTP endpoints and the RPC envelope.
import { beforeAll, describe, expect, test } from "bun:test";
import { cleanupAfterAll, expectError, httpRequest, rpc, rpcRaw, startServer, type Server } from "./harness";

cleanupAfterAll();

let server: Server;
beforeAll(async () => {
  server = await startServer();
});

describe("plain endpoints", () => {
  test("GET /health → 200 {status: ok}, no auth", async () => {
    const r = await httpRequest(`${server.url}/health`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: "ok" });
    expect(r.headers.get("content-type") ?? "").toContain("application/json");
  });

  test("GET /version → 200 {version: 0.7.0}, no auth", async () => {
    const r = await httpRequest(`${server.url}/version`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ version: "0.7.0" });
  });

  test("GET /metrics → 200 Prometheus text, no auth; RPC requests are counted", async () => {
    await rpc(server.url, server.token, "sys.version");
    const r = await httpRequest(`${server.url}/metrics`);
    expect(r.status).toBe(200);
    expect(r.body).toBeUndefined(); // not JSON
    expect(r.headers.get("content-type") ?? "").toContain("text/plain");
    // Prometheus exposition: every non-comment, non-empty line is `name{labels} value`.
    const lines = r.text.split("\n").filter((l) => l && !l.startsWith("#"));
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? [-+0-9.eEaNInf]+( \d+)?$/);
    const requests = lines.filter((l) => l.startsWith("messagedb_rpc_requests_total{"));
    expect(requests.some((l) => l.includes('method="sys.version"') && l.includes('code="200"'))).toBe(true);
  });

  test("GET /metrics labels made-up methods `unknown` (clients cannot grow the label set)", async () => {
    await rpc(server.url, server.token, "made.up.method");
    const r = await httpRequest(`${server.url}/metrics`);
    expect(r.text).not.toContain("made.up.method");
    expect(r.text).toMatch(/messagedb_rpc_requests_total\{[^}]*method="unknown"[^}]*\} [1-9]/);
  });

  for (const path of ["/", "/nope", "/rpc/extra", "/healthz", "/api/rpc"]) {
    test(`GET ${path} → 404 NOT_FOUND "Endpoint not found"`, async () => {
      const r = await httpRequest(`${server.url}${path}`);
      expectError(r, 404, "NOT_FOUND", "Endpoint not found");
      expect(r.body).toEqual({ error: { code: "NOT_FOUND", message: "Endpoint not found" } });
    });
  }

  test("POST to an unknown path → 404 NOT_FOUND", async () => {
    const r = await httpRequest(`${server.url}/nothing-here`, { method: "POST", body: "[]" });
    expectError(r, 404, "NOT_FOUND", "Endpoint not found");
  });

  for (const method of ["GET", "PUT", "DELETE", "PATCH"]) {
    test(`${method} /rpc → 405 INVALID_REQUEST "Only POST method allowed"`, async () => {
      const init: RequestInit = { method, headers: { Authorization: `Bearer ${server.token}` } };
      if (method !== "GET") init.body = JSON.stringify(["sys.version"]);
      const r = await httpRequest(`${server.url}/rpc`, init);
      expectError(r, 405, "INVALID_REQUEST", "Only POST method allowed");
    });
  }

  for (const [method, path] of [
    ["POST", "/subscribe"],
    ["GET", "/import"],
    ["POST", "/health"],
    ["DELETE", "/version"],
    ["PUT", "/metrics"],
  ]) {
    test(`${method} ${path} → 405 with the JSON error body`, async () => {
      const r = await httpRequest(`${server.url}${path}`, { method, body: method === "GET" ? undefined : "x" });
      expectError(r, 405, "INVALID_REQUEST", `Method ${method} not allowed`);
    });
  }

  test("a query string that does not read (token given twice) → 400 JSON INVALID_REQUEST", async () => {
    for (const path of ["/rpc", "/import"]) {
      const r = await httpRequest(`${server.url}${path}?token=a&token=b`, { method: "POST", body: '["sys.version"]' });
      expectError(r, 400, "INVALID_REQUEST", /^Invalid query string: /);
    }
  });

  test("localhost reaches the server on whichever address it resolves to (dual-stack bind)", async () => {
    const r = await httpRequest(`http://localhost:${server.port}/health`);
    expect(r.status).toBe(200);
  });

  test("IPv6 loopback [::1] reaches the server (dual-stack bind)", async () => {
    // Only meaningful where the loopback interface has ::1.
    const { networkInterfaces } = await import("node:os");
    const has6 = Object.values(networkInterfaces()).some((a) => a?.some((i) => i.address === "::1"));
    if (!has6) return;
    const r = await httpRequest(`http://[::1]:${server.port}/health`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: "ok" });
  });
});

describe("RPC envelope", () => {
  const bad: Array<[string, string]> = [
    ["not json at all", "{nope"],
    ["a JSON object", '{"method":"sys.version"}'],
    ["a JSON string", '"sys.version"'],
    ["a JSON number", "42"],
    ["JSON null", "null"],
    ["an empty body", ""],
  ];
  for (const [what, body] of bad) {
    test(`${what} → 400 INVALID_REQUEST "Malformed JSON request"`, async () => {
      const r = await rpcRaw(server.url, body, server.token);
      expectError(r, 400, "INVALID_REQUEST", "Malformed JSON request");
    });
  }

  test('[] → 400 "Missing method name"', async () => {
    expectError(await rpcRaw(server.url, "[]", server.token), 400, "INVALID_REQUEST", "Missing method name");
  });

  for (const m of ["42", "null", '{"m":1}', '["sys.version"]', "true"]) {
    test(`method ${m} → 400 "Method name must be a string"`, async () => {
      const r = await rpcRaw(server.url, `[${m}]`, server.token);
      expectError(r, 400, "INVALID_REQUEST", "Method name must be a string");
    });
  }

  test('unknown method → 404 METHOD_NOT_FOUND "Unknown method: <m>"', async () => {
    const r = await rpc(server.url, server.token, "stream.frobnicate", "x");
    expectError(r, 404, "METHOD_NOT_FOUND", "Unknown method: stream.frobnicate");
  });

  test("sys.version → \"0.7.0\"", async () => {
    const r = await rpc(server.url, server.token, "sys.version");
    expect(r.status).toBe(200);
    expect(r.body).toBe("0.7.0");
    expect(r.headers.get("content-type") ?? "").toContain("application/json");
  });

  test("sys.health → {status: ok, backend: sqlite, connections: n}", async () => {
    const r = await rpc(server.url, server.token, "sys.health");
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(["backend", "connections", "status"]);
    expect(r.body.status).toBe("ok");
    expect(r.body.backend).toBe("sqlite");
    expect(Number.isInteger(r.body.connections)).toBe(true);
    expect(r.body.connections).toBeGreaterThanOrEqual(0);
  });

  test("a body over the default 16 MiB limit → 413 INVALID_REQUEST", async () => {
    const big = JSON.stringify(["stream.write", "big-1", { type: "Big", data: { s: "x".repeat(17 * 1024 * 1024) } }]);
    const r = await rpcRaw(server.url, big, server.token);
    expectError(r, 413, "INVALID_REQUEST");
  });

  test("a body just under 16 MiB is accepted", async () => {
    const body = JSON.stringify(["stream.write", "big-2", { type: "Big", data: { s: "x".repeat(15 * 1024 * 1024) } }]);
    const r = await rpcRaw(server.url, body, server.token);
    expect(r.status).toBe(200);
    expect(r.body.position).toBe(0);
  });
});

describe("--max-body", () => {
  let small: Server;
  beforeAll(async () => {
    small = await startServer({ args: ["--max-body", "1024"] });
  });

  test("a body over --max-body → 413 INVALID_REQUEST JSON error", async () => {
    const body = JSON.stringify(["stream.write", "s-1", { type: "T", data: { s: "x".repeat(2000) } }]);
    const r = await rpcRaw(small.url, body, small.token);
    expectError(r, 413, "INVALID_REQUEST");
  });

  test("a body under --max-body is served", async () => {
    const body = JSON.stringify(["stream.write", "s-1", { type: "T", data: { s: "x".repeat(100) } }]);
    const r = await rpcRaw(small.url, body, small.token);
    expect(r.status).toBe(200);
  });
});
