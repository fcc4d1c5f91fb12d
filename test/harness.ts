// Black-box harness for the `messagedb` server binary: starts it as a child process, talks to it over
// real HTTP (RPC, SSE, import) and stops it. Nothing here knows how the server is built.
import { afterAll, expect } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { randomBytes, createHash } from "node:crypto";
import type { Subprocess } from "bun";

// ---------------------------------------------------------------------------------------------
// The binary

/** MESSAGEDB_BIN (must exist when set), else $CARGO_TARGET_DIR/debug/messagedb, then ~/.cache/messagedb/target/debug/messagedb,
 * then target/debug/messagedb of the repository. */
export function findBinary(): string {
  if (process.env.MESSAGEDB_BIN) {
    const explicit = resolve(process.env.MESSAGEDB_BIN);
    if (!existsSync(explicit)) throw new Error(`MESSAGEDB_BIN=${process.env.MESSAGEDB_BIN} does not exist`);
    return explicit;
  }
  const candidates: string[] = [];
  if (process.env.CARGO_TARGET_DIR) candidates.push(join(process.env.CARGO_TARGET_DIR, "debug", "messagedb"));
  if (process.env.HOME) candidates.push(join(process.env.HOME, ".cache", "messagedb", "target", "debug", "messagedb"));
  candidates.push(resolve(import.meta.dir, "..", "target", "debug", "messagedb"));
  for (const c of candidates) if (existsSync(c)) return c;
  throw new Error(
    `messagedb binary not found; build it (cargo build -p messagedb-server) or set MESSAGEDB_BIN. Tried: ${candidates.join(", ")}`,
  );
}

/** The binary, found on first use (suites that never start it do not need it built). */
let bin: string | undefined;
export function binary(): string {
  return (bin ??= findBinary());
}

/** The child's environment: ours without any MESSAGEDB_* / EVENTODB_* variable (they are flag fallbacks). */
function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith("MESSAGEDB_") || k.startsWith("EVENTODB_")) continue;
    env[k] = v;
  }
  env.NO_COLOR = "1";
  return { ...env, ...extra };
}

const tempDirs: string[] = [];
export function tempDir(prefix = "messagedb-test-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}

// ---------------------------------------------------------------------------------------------
// Waiting

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` until it returns a truthy value or the deadline passes (then throws `message`). */
export async function waitFor<T>(
  cond: () => T | Promise<T>,
  opts: { timeout?: number; interval?: number; message?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeout ?? 5000);
  let last: unknown;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`${opts.message ?? "condition not met"} within ${opts.timeout ?? 5000} ms (last: ${String(last)})`);
    }
    await sleep(opts.interval ?? 20);
  }
}

/** Resolves with the promise's value, or rejects when it takes longer than `ms`. */
export async function within<T>(p: Promise<T>, ms: number, what = "operation"): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Output capture of a child process

class OutputCapture {
  text = "";
  private waiters: Array<() => void> = [];
  closed = false;
  constructor(stream: ReadableStream<Uint8Array> | undefined) {
    if (!stream) {
      this.closed = true;
      return;
    }
    void this.pump(stream);
  }
  private async pump(stream: ReadableStream<Uint8Array>) {
    const dec = new TextDecoder();
    try {
      for await (const chunk of stream) {
        this.text += dec.decode(chunk, { stream: true });
        this.wake();
      }
    } catch {
      // the child died; what we have is all there is
    }
    this.closed = true;
    this.wake();
  }
  private wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
  /** Waits until `re` matches the captured text, or the stream closes, or the deadline passes. */
  async waitFor(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.text.match(re);
      if (m) return m;
      if (this.closed) return null;
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Servers

export interface Server {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** The address printed in the `listening on` line. */
  listenAddr: string;
  /** The default-namespace token printed between the two lines of `═`. */
  token: string;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  stdout(): string;
  stderr(): string;
  /** Sends `signal` (SIGTERM by default), waits for the exit; returns the exit code (null when the
   * process was killed by a signal), the killing signal if any, and how long the exit took. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; killedBy: string | null; ms: number }>;
}

export interface StartOptions {
  /** `--test-mode` (default true). */
  testMode?: boolean;
  /** Port flag value (default 0). `null` = pass no port flag at all. */
  port?: number | null;
  /** Extra arguments after `serve --port=… [--test-mode]`. */
  args?: string[];
  /** Replace the whole argument list (after the binary). */
  argv?: string[];
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
}

const running = new Set<Server>();

/** Parses the token framed by two lines made only of `═` characters. */
export function parseFramedToken(stdout: string): string | null {
  const lines = stdout.split(/\r?\n/);
  const frames: number[] = [];
  lines.forEach((l, i) => {
    const t = l.trim();
    if (t.length > 0 && /^═+$/.test(t)) frames.push(i);
  });
  if (frames.length < 2) return null;
  const inner = lines.slice(frames[0] + 1, frames[1]).join("\n");
  const m = inner.match(/ns_[A-Za-z0-9_-]+/);
  return m ? m[0] : null;
}

export async function startServer(opts: StartOptions = {}): Promise<Server> {
  const port = opts.port === undefined ? 0 : opts.port;
  const argv =
    opts.argv ??
    [
      "serve",
      ...(port === null ? [] : [`--port=${port}`]),
      ...(opts.testMode === false ? [] : ["--test-mode"]),
      ...(opts.args ?? []),
    ];
  const cwd = opts.cwd ?? tempDir();
  const proc = Bun.spawn([binary(), ...argv], {
    cwd,
    env: childEnv(opts.env),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const out = new OutputCapture(proc.stdout);
  const err = new OutputCapture(proc.stderr);
  const timeoutMs = opts.timeoutMs ?? 15000;
  const m = await out.waitFor(/listening on http:\/\/(\S+):(\d+)/, timeoutMs);
  if (!m) {
    proc.kill("SIGKILL");
    await proc.exited;
    throw new Error(
      `server did not print 'listening on' within ${timeoutMs} ms (exit ${proc.exitCode}); argv=${JSON.stringify(argv)}\n` +
        `stdout:\n${out.text}\nstderr:\n${err.text}`,
    );
  }
  const listenAddr = m[1];
  const realPort = Number(m[2]);
  const token = parseFramedToken(out.text);
  if (!token) {
    proc.kill("SIGKILL");
    throw new Error(`no token framed by lines of '═' before 'listening on'; stdout:\n${out.text}`);
  }
  const server: Server = {
    url: `http://127.0.0.1:${realPort}`,
    port: realPort,
    listenAddr,
    token,
    proc,
    stdout: () => out.text,
    stderr: () => err.text,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      running.delete(server);
      const t0 = performance.now();
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const killer = setTimeout(() => proc.kill("SIGKILL"), 10000);
      await proc.exited;
      const ms = performance.now() - t0;
      clearTimeout(killer);
      return { code: proc.exitCode, killedBy: proc.signalCode ?? null, ms };
    },
  };
  running.add(server);
  return server;
}

/** Stops every server this file started and removes its temporary directories. Call once per file. */
export function cleanupAfterAll() {
  afterAll(async () => {
    await Promise.all([...running].map((s) => s.stop("SIGKILL")));
    for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
}

process.on("exit", () => {
  for (const s of running) {
    try {
      s.proc.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
});

/** Runs the binary to completion (one-shot commands: version, help, export, import…). */
export async function runCli(
  args: string[],
  opts: { env?: Record<string, string>; timeoutMs?: number; cwd?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = Bun.spawn([binary(), ...args], {
    cwd: opts.cwd ?? tempDir(),
    env: childEnv(opts.env),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs ?? 15000);
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  return { code: proc.signalCode ? null : code, stdout, stderr };
}

// ---------------------------------------------------------------------------------------------
// Tokens

export function b64url(s: string): string {
  return Buffer.from(s, "utf8").toString("base64url").replace(/=+$/, "");
}

/** A well-formed token for `namespace`: `ns_<base64url>_<64 hex>`. */
export function makeToken(namespace: string, hex?: string): string {
  return `ns_${b64url(namespace)}_${hex ?? randomBytes(32).toString("hex")}`;
}

export const TOKEN_RE = /^ns_([A-Za-z0-9_-]+)_([0-9a-f]{64})$/;

/** The namespace a token names (no validation beyond the shape). */
export function tokenNamespace(token: string): string {
  const parts = token.slice(3).split("_");
  return Buffer.from(parts[0], "base64url").toString("utf8");
}

export function uniq(prefix = "t"): string {
  return `${prefix}${randomBytes(6).toString("hex")}`;
}

// ---------------------------------------------------------------------------------------------
// RPC

export interface HttpResult {
  status: number;
  headers: Headers;
  /** Parsed JSON, or undefined when the body is not JSON. */
  body: any;
  text: string;
}

export async function httpRequest(url: string, init: RequestInit = {}): Promise<HttpResult> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, body, text };
}

/** POSTs a raw body to /rpc with `Authorization: Bearer <token>` when a token is given. */
export async function rpcRaw(
  url: string,
  body: string | Uint8Array,
  token?: string | null,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  const h: Record<string, string> = { "Content-Type": "application/json", ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  return httpRequest(`${url}/rpc`, { method: "POST", body, headers: h });
}

/** `["method", ...args]` to /rpc. */
export function rpc(url: string, token: string | null | undefined, method: string, ...args: unknown[]): Promise<HttpResult> {
  return rpcRaw(url, JSON.stringify([method, ...args]), token);
}

/** Asserts a 200 and returns the result. */
export function ok(res: HttpResult): any {
  if (res.status !== 200) throw new Error(`expected 200, got ${res.status}: ${res.text}`);
  return res.body;
}

/** Calls a method and returns its result, failing on anything but 200. */
export async function call(url: string, token: string | null | undefined, method: string, ...args: unknown[]): Promise<any> {
  const res = await rpc(url, token, method, ...args);
  if (res.status !== 200) throw new Error(`${method} ${JSON.stringify(args)} → ${res.status}: ${res.text}`);
  return res.body;
}

/** Asserts a JSON error response: status, code, and (when given) exact message and details. */
export function expectError(
  res: HttpResult,
  status: number,
  code: string,
  message?: string | RegExp,
  details?: Record<string, unknown>,
) {
  const ctx = `${res.status} ${res.text}`;
  expect({ status: res.status, ctx }).toEqual({ status, ctx });
  expect(res.headers.get("content-type") ?? "").toContain("application/json");
  expect(res.body?.error?.code).toBe(code);
  if (typeof message === "string") expect(res.body.error.message).toBe(message);
  else if (message) expect(res.body.error.message).toMatch(message);
  if (details) expect(res.body.error.details).toEqual(details);
}

/** Creates a fresh namespace with the admin token and returns its id and token. */
export async function newNamespace(server: Server, prefix = "t"): Promise<{ ns: string; token: string }> {
  const ns = uniq(prefix);
  const r = await call(server.url, server.token, "ns.create", ns);
  return { ns, token: r.token };
}

// ---------------------------------------------------------------------------------------------
// Stream names and consumer groups (design.md)

export function hash64(value: string): bigint {
  return createHash("md5").update(value, "utf8").digest().readBigInt64BE(0);
}

/** Member of `size` that owns `stream` under the MD5 cardinal-id rule, or null for a category name. */
export function groupMember(stream: string, size: number): number | null {
  const i = stream.indexOf("-");
  if (i < 0) return null;
  let id = stream.slice(i + 1);
  const p = id.indexOf("+");
  if (p >= 0) id = id.slice(0, p);
  let h = hash64(id);
  if (h < 0n) h = -h;
  return Number(h % BigInt(size));
}

// ---------------------------------------------------------------------------------------------
// Server-Sent Events

export interface SseEvent {
  /** `comment` for a block of only `:` lines, else the `event:` value (`message` when absent). */
  type: string;
  data?: string;
  comment?: string;
  raw: string;
}

export interface Poke {
  stream: string;
  position: number;
  globalPosition: number;
}

/** An incremental reader of an SSE response: events are parsed as bytes arrive. */
export class SseReader {
  readonly response: Response;
  private controller: AbortController;
  private queue: SseEvent[] = [];
  private waiters: Array<() => void> = [];
  private buf = "";
  /** Every chunk as read, for diagnostics. */
  chunks: string[] = [];
  ended = false;
  endError: unknown;
  readonly endedPromise: Promise<void>;

  constructor(response: Response, controller: AbortController) {
    this.response = response;
    this.controller = controller;
    this.endedPromise = this.pump();
  }

  /** Opens `GET /subscribe?…`; throws when the answer is not 200 (use `subscribeRaw` for errors). */
  static async open(url: string, params: Record<string, string | number | boolean>, token?: string | null): Promise<SseReader> {
    const { response, controller } = await subscribeRaw(url, params, token);
    if (response.status !== 200) {
      const text = await response.text();
      throw new Error(`subscribe ${JSON.stringify(params)} → ${response.status}: ${text}`);
    }
    return new SseReader(response, controller);
  }

  private async pump() {
    const dec = new TextDecoder();
    try {
      const reader = this.response.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const s = dec.decode(value, { stream: true });
        this.chunks.push(s);
        this.buf += s;
        let idx: number;
        while ((idx = this.buf.indexOf("\n\n")) >= 0) {
          const block = this.buf.slice(0, idx);
          this.buf = this.buf.slice(idx + 2);
          this.queue.push(parseSseBlock(block));
        }
        this.wake();
      }
    } catch (e) {
      this.endError = e;
    }
    this.ended = true;
    this.wake();
  }

  private wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private async waitChange(ms: number) {
    if (ms <= 0) return;
    await new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      this.waiters.push(() => {
        clearTimeout(t);
        r();
      });
    });
  }

  /** The next event (comments included); throws on timeout or end of stream. */
  async next(timeoutMs = 5000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = this.queue.shift();
      if (e) return e;
      if (this.ended) throw new Error(`SSE stream ended while waiting for an event (${String(this.endError ?? "eof")})`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no SSE event within ${timeoutMs} ms`);
      await this.waitChange(left);
    }
  }

  /** The next poke, skipping comments (keepalives). */
  async nextPoke(timeoutMs = 5000): Promise<Poke> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = await this.next(Math.max(1, deadline - Date.now()));
      if (e.type === "comment") continue;
      if (e.type !== "poke") throw new Error(`unexpected SSE event ${JSON.stringify(e.raw)}`);
      return JSON.parse(e.data!);
    }
  }

  /** Exactly `n` pokes (throws when fewer arrive before the deadline). */
  async pokes(n: number, timeoutMs = 10000): Promise<Poke[]> {
    const deadline = Date.now() + timeoutMs;
    const out: Poke[] = [];
    while (out.length < n) {
      try {
        out.push(await this.nextPoke(Math.max(1, deadline - Date.now())));
      } catch (e) {
        throw new Error(`got ${out.length} of ${n} pokes: ${(e as Error).message}; got ${JSON.stringify(out.slice(-5))}`);
      }
    }
    return out;
  }

  /** Asserts that no poke arrives during a short window (comments are allowed). */
  async expectNoPoke(windowMs = 300) {
    const deadline = Date.now() + windowMs;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) return;
      const e = this.queue.shift();
      if (e) {
        if (e.type !== "comment") throw new Error(`unexpected SSE event: ${JSON.stringify(e.raw)}`);
        continue;
      }
      if (this.ended) return;
      await this.waitChange(left);
    }
  }

  close() {
    this.controller.abort();
  }
}

export function parseSseBlock(block: string): SseEvent {
  const lines = block.split("\n");
  let type: string | undefined;
  const data: string[] = [];
  const comments: string[] = [];
  for (const l of lines) {
    if (l.startsWith(":")) comments.push(l.slice(1).trim());
    else if (l.startsWith("event:")) type = l.slice(6).trim();
    else if (l.startsWith("data:")) data.push(l.slice(5).replace(/^ /, ""));
  }
  if (type === undefined && data.length === 0) return { type: "comment", comment: comments.join("\n"), raw: block };
  return { type: type ?? "message", data: data.join("\n"), raw: block };
}

export function subscribeUrl(url: string, params: Record<string, string | number | boolean>, token?: string | null): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) q.set(k, String(v));
  if (token) q.set("token", token);
  return `${url}/subscribe?${q.toString()}`;
}

/** `GET /subscribe` with the token as a query parameter; the caller reads or aborts the response. */
export async function subscribeRaw(
  url: string,
  params: Record<string, string | number | boolean>,
  token?: string | null,
): Promise<{ response: Response; controller: AbortController }> {
  const controller = new AbortController();
  const response = await within(
    fetch(subscribeUrl(url, params, token), { signal: controller.signal }),
    5000,
    "subscribe response headers",
  );
  return { response, controller };
}

// ---------------------------------------------------------------------------------------------
// Message shapes

export const TIME_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,5}[1-9])?Z$/;
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const UUID7_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function randomUuid(): string {
  return crypto.randomUUID();
}

/** Writes `n` messages to `stream` one by one; returns the results. */
export async function writeN(
  url: string,
  token: string,
  stream: string,
  n: number,
  type = "Event",
): Promise<Array<{ position: number; globalPosition: number }>> {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await call(url, token, "stream.write", stream, { type, data: { i } }));
  return out;
}
