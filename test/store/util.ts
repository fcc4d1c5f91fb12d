// Small helpers of the store suite: deadlines instead of sleeps, temporary directories.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

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

/** Polls `cond` until it returns a truthy value or the deadline passes (then throws). */
export async function waitFor<T>(
  cond: () => T | Promise<T>,
  opts: { timeout?: number; interval?: number; message?: string } = {},
): Promise<T> {
  const timeout = opts.timeout ?? 10_000;
  const deadline = Date.now() + timeout;
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
      throw new Error(`${opts.message ?? "condition not met"} within ${timeout} ms (last: ${String(last)})`);
    }
    // Polling interval of a condition check, not a wait for an event.
    await new Promise((r) => setTimeout(r, opts.interval ?? 20));
  }
}

/**
 * Takes exactly `n` values from an async iterator, each within the deadline; the iterator stays
 * open (call `return()` on it to close it).
 */
export async function take<T>(it: AsyncIterator<T>, n: number, timeoutMs = 10_000): Promise<T[]> {
  const deadline = Date.now() + timeoutMs;
  const out: T[] = [];
  while (out.length < n) {
    const left = deadline - Date.now();
    let r: IteratorResult<T>;
    try {
      r = await within(it.next(), Math.max(1, left), `message ${out.length + 1} of ${n}`);
    } catch (e) {
      throw new Error(`got ${out.length} of ${n}: ${(e as Error).message}`);
    }
    if (r.done) throw new Error(`the iterator ended after ${out.length} of ${n} values`);
    out.push(r.value);
  }
  return out;
}

const dirs: string[] = [];

/** A fresh temporary directory (removed by `removeTempDirs`). */
export function tempDir(prefix = "messagedb-store-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

export function removeTempDirs() {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const UUID7_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const TOKEN_RE = /^ns_([A-Za-z0-9_-]+)_([0-9a-f]{64})$/;

/** A well-formed token for `namespace`: `ns_<base64url>_<64 hex>`. */
export function makeToken(namespace: string): string {
  const hex = Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16).padStart(2, "0")).join("");
  return `ns_${Buffer.from(namespace, "utf8").toString("base64url").replace(/=+$/, "")}_${hex}`;
}
