// Small helpers of the store suite: deadlines instead of sleeps, temporary directories. The
// deadline and token helpers are the server suite's (../harness, copied beside this folder).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { within } from "../harness";

export { makeToken, TOKEN_RE, within } from "../harness";

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
