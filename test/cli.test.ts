// wire-protocol.md §1: the command line.
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  call,
  cleanupAfterAll,
  httpRequest,
  makeToken,
  runCli,
  startServer,
  tempDir,
  TOKEN_RE,
  tokenNamespace,
  within,
} from "./harness";

cleanupAfterAll();

describe("one-shot commands", () => {
  for (const args of [["version"], ["--version"], ["-v"]]) {
    test(`messagedb ${args.join(" ")} prints 0.7.0`, async () => {
      const r = await runCli(args);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toMatch(/(^|\s)0\.7\.0$/);
    });
  }

  for (const args of [["help"], []]) {
    test(`messagedb ${args.join(" ") || "(no arguments)"} prints help and exits 0`, async () => {
      const r = await runCli(args);
      expect(r.code).toBe(0);
      const out = r.stdout + r.stderr;
      for (const word of ["serve", "export", "import", "version"]) expect(out).toContain(word);
    });
  }

  for (const args of [["serve", "--port=0", "--test-mode", "--no-such-flag"], ["--bogus=1"], ["serve", "-zzz", "1"]]) {
    test(`unknown flag (${args.join(" ")}) → usage on stderr, exit 2`, async () => {
      const r = await runCli(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/usage/i);
    });
  }

  test("an unparseable --token → exit 1 with a clear message", async () => {
    const r = await runCli(["serve", "--port=0", "--test-mode", "--token", "not-a-token"]);
    expect(r.code).toBe(1);
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/token/i);
    expect(out).toContain("missing 'ns_' prefix");
    expect(out).not.toMatch(/listening on/);
  });

  for (const command of ["serve", "migrate"]) {
    test(`messagedb ${command}: a store URL's password never reaches the output`, async () => {
      // Port 1: nothing listens, so opening the store fails after the 1 s connection wait, and the
      // error names the URL.
      const url = "postgres://app:s3cret@127.0.0.1:1/messages";
      const r = await runCli([command, "--port=0", "--acquire-timeout", "1", "--db-url", url]);
      expect(r.code).toBe(1);
      const out = r.stdout + r.stderr;
      expect(out).not.toContain("s3cret");
      if (command === "serve") expect(out).toContain("postgres://app:***@127.0.0.1:1/messages");
    });
  }

  test("a --token for another namespace → exit 1 with a clear message", async () => {
    const r = await runCli(["serve", "--port=0", "--test-mode", `--token=${makeToken("tenant")}`]);
    expect(r.code).toBe(1);
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/token/i);
    expect(out).toContain("default");
    expect(out).not.toMatch(/listening on/);
  });
});

describe("serve", () => {
  const forms: Array<[string, string[]]> = [
    ["--port=0", ["serve", "--port=0", "--test-mode"]],
    ["--port 0", ["serve", "--port", "0", "--test-mode"]],
    ["-port=0", ["serve", "-port=0", "-test-mode"]],
    ["-port 0", ["serve", "-port", "0", "-test-mode"]],
    ["no sub-command", ["--port=0", "--test-mode"]],
  ];
  for (const [name, argv] of forms) {
    test(`flag form ${name} starts a server on a free port`, async () => {
      const s = await startServer({ argv });
      expect(s.port).toBeGreaterThan(0);
      expect(s.port).not.toBe(8080);
      const h = await httpRequest(`${s.url}/health`);
      expect(h.body).toEqual({ status: "ok" });
      expect(await call(s.url, s.token, "sys.version")).toBe("0.7.0");
      await s.stop();
    });
  }

  test("startup prints the backend, then the token framed by lines of ═, then 'listening on'", async () => {
    const s = await startServer();
    const out = s.stdout();
    const frame = out.indexOf("═");
    const listening = out.indexOf("listening on http://");
    expect(frame).toBeGreaterThan(0);
    expect(out.slice(0, frame)).toMatch(/sqlite/i);
    expect(out.lastIndexOf("═")).toBeLessThan(listening);
    expect(s.token).toMatch(TOKEN_RE);
    expect(tokenNamespace(s.token)).toBe("default");
    // The printed token is the default namespace's.
    expect(await call(s.url, s.token, "ns.list")).toEqual(expect.arrayContaining([expect.objectContaining({ namespace: "default" })]));
    await s.stop();
  });

  test("--host binds that address", async () => {
    const s = await startServer({ args: ["--host", "127.0.0.1"] });
    expect(s.listenAddr).toBe("127.0.0.1");
    expect((await httpRequest(`${s.url}/health`)).status).toBe(200);
    await s.stop();
  });

  test("env fallbacks MESSAGEDB_<NAME> and EVENTODB_<NAME>; an explicit flag wins", async () => {
    const t1 = makeToken("default");
    const s1 = await startServer({ port: null, env: { MESSAGEDB_TOKEN: t1, MESSAGEDB_PORT: "0" } });
    expect(s1.token).toBe(t1);
    expect(s1.port).not.toBe(8080);
    await s1.stop();

    const t2 = makeToken("default");
    const s2 = await startServer({ env: { EVENTODB_TOKEN: t2 } });
    expect(s2.token).toBe(t2);
    await s2.stop();

    const t3 = makeToken("default");
    const s3 = await startServer({ args: ["--token", t3], env: { MESSAGEDB_TOKEN: t1 } });
    expect(s3.token).toBe(t3);
    await s3.stop();
  });

  test("--log-level and --log-format are accepted", async () => {
    const s = await startServer({ args: ["--log-level", "debug", "--log-format", "json"] });
    expect((await httpRequest(`${s.url}/health`)).status).toBe(200);
    await s.stop();
  });

  test("a port already in use → clear error, exit 1", async () => {
    const s = await startServer();
    const r = await runCli(["serve", `--port=${s.port}`, "--test-mode"]);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/in use|address|bind/i);
    expect((await httpRequest(`${s.url}/health`)).status).toBe(200);
    await s.stop();
  });

  test("without --test-mode and --db-url: embedded SQLite in --data-dir, data survives a restart", async () => {
    const dir = join(tempDir(), "data");
    const tok = makeToken("default");
    const s1 = await startServer({ testMode: false, args: ["--data-dir", dir, "--token", tok] });
    await call(s1.url, tok, "stream.write", "keep-1", { type: "Kept", data: { v: 42 } });
    const { namespace: ns, token: nsTok } = await call(s1.url, tok, "ns.create", "tenant1");
    await call(s1.url, nsTok, "stream.write", "t-1", { type: "T", data: {} });
    expect((await s1.stop()).code).not.toBeNull();
    expect(existsSync(dir)).toBe(true);

    const s2 = await startServer({ testMode: false, args: ["--data-dir", dir, "--token", tok] });
    const msgs = await call(s2.url, tok, "stream.get", "keep-1");
    expect(msgs.map((m: any[]) => [m[1], m[4]])).toEqual([["Kept", { v: 42 }]]);
    expect(await call(s2.url, nsTok, "stream.version", "t-1")).toBe(0);
    expect((await call(s2.url, tok, "ns.info", ns)).messageCount).toBe(1);
    await s2.stop();
  });

  test("without --data-dir the default is ./messagedb-data", async () => {
    const cwd = tempDir();
    const tok = makeToken("default");
    const s = await startServer({ testMode: false, cwd, args: ["--token", tok] });
    await call(s.url, tok, "stream.write", "d-1", { type: "T", data: {} });
    await s.stop();
    expect(existsSync(join(cwd, "messagedb-data"))).toBe(true);
  });

  test("startup is quick", async () => {
    const t0 = performance.now();
    const s = await within(startServer(), 5000, "startup");
    expect(performance.now() - t0).toBeLessThan(5000);
    await s.stop();
  });
});
