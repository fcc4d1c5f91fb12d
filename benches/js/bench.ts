// Benchmark of the npm package `messagedb` under Bun: each case runs the package and its baseline
// side by side in one run (alternating rounds, so machine noise hits both), and prints one JSON line
// per case on stdout (a summary table on stderr).
//
// Build the package in release first, run from the repository root, then return to the debug build:
//
//   export CARGO_TARGET_DIR=$HOME/.cache/messagedb/target
//   npm run build:native:release && npm run build:js
//   node_modules/.bin/bun benches/js/bench.ts [--quick] [--case NAME]...
//   npm run build
//
// Cases:
//   write_single_vs_rust               a single write through the package (":memory:") vs the same write
//                                      through the Rust API: `cargo run --release -p messagedb-bench --bin messagedb-bench --
//                                      --case write_single_memory` (its `ours_*` side), run between the
//                                      package's rounds. Target: package cost <= 1.5x Rust.
//   write_batch_100_vs_single_memory   writeBatch of 100 vs 100 single writes, per message, ":memory:".
//   write_batch_100_vs_single_dir      the same on a temporary SQLite directory. Target: >= 20x.
//   write_vs_bun_sqlite_memory         the package's write on ":memory:" vs bun:sqlite in this process
//                                      doing the equivalent work on the same schema (0001_messages.sql):
//                                      BEGIN IMMEDIATE, SELECT max(position) … WHERE stream_name = ?,
//                                      INSERT of every column (16-byte id blob, JSON text, category,
//                                      cardinal hash), COMMIT. Target: package cost <= 2x.
//   event_loop_during_large_reads      (info) how long the JS thread is held while 10,000-message
//                                      category reads run back to back on a SQLite directory: the gaps of a
//                                      1 ms timer, with the rest of a large read on the blocking pool (ours)
//                                      vs every read whole on the JS thread (baseline). Printed: p50, p99
//                                      and max gap of each, and the ratio of the p99s.
//   async_call_overhead                (info) an awaited native call that does almost nothing
//                                      (streamVersion of an empty stream) vs bun:sqlite running the same
//                                      query synchronously: the fixed cost of one async call.
import { Database } from "bun:sqlite";
import { createHash, randomFillSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { MessageStore, type Namespace } from "../../bindings-node/dist/index.mjs";

const ROOT = resolve(import.meta.dir, "..", "..");
const args = process.argv.slice(2);
const QUICK = args.includes("--quick");
const ONLY = args.flatMap((a, i) => (args[i - 1] === "--case" ? [a] : []));
const PLAN = QUICK ? { rounds: 2, roundMs: 60, warmupMs: 20 } : { rounds: 6, roundMs: 400, warmupMs: 200 };
const WRITE_STREAMS = 100;

// ---------------------------------------------------------------------------------------------
// Measurement

class Samples {
  ops = 0;
  ns = 0;
  lat: number[] = [];
  add(opNs: number, ops = 1) {
    this.ops += ops;
    this.ns += opNs;
    this.lat.push(opNs / ops);
  }
  opsPerSec() {
    return this.ns > 0 ? (this.ops * 1e9) / this.ns : NaN;
  }
  costUs() {
    return this.ns / 1e3 / this.ops;
  }
  percentileUs(p: number) {
    if (this.lat.length === 0) return NaN;
    const s = Float64Array.from(this.lat).sort();
    return s[Math.min(s.length - 1, Math.floor(p * s.length))] / 1e3;
  }
}

type Op = { run: () => unknown | Promise<unknown>; async: boolean; opsPerCall?: number };

/** Runs `op` for `ms` (each call timed); returns the samples (or adds them to `into`). */
async function slice(op: Op, ms: number, into?: Samples): Promise<Samples> {
  const s = into ?? new Samples();
  const per = op.opsPerCall ?? 1;
  const end = Bun.nanoseconds() + ms * 1e6;
  if (op.async) {
    for (;;) {
      const t0 = Bun.nanoseconds();
      await op.run();
      const t1 = Bun.nanoseconds();
      s.add(t1 - t0, per);
      if (t1 >= end) break;
    }
  } else {
    for (;;) {
      const t0 = Bun.nanoseconds();
      op.run();
      const t1 = Bun.nanoseconds();
      s.add(t1 - t0, per);
      if (t1 >= end) break;
    }
  }
  return s;
}

/** Warm-up, then alternating rounds of both sides. */
async function interleave(ours: Op, base: Op): Promise<[Samples, Samples]> {
  await slice(ours, PLAN.warmupMs);
  await slice(base, PLAN.warmupMs);
  const a = new Samples();
  const b = new Samples();
  for (let r = 0; r < PLAN.rounds; r++) {
    if (r % 2 === 0) {
      await slice(ours, PLAN.roundMs, a);
      await slice(base, PLAN.roundMs, b);
    } else {
      await slice(base, PLAN.roundMs, b);
      await slice(ours, PLAN.roundMs, a);
    }
  }
  return [a, b];
}

// ---------------------------------------------------------------------------------------------
// Report

type Target = { kind: "cost"; atMost: number } | { kind: "throughput"; atLeast: number } | { kind: "info" };
interface Side {
  opsPerSec: number;
  p50: number;
  p99: number;
  ops: number;
}
const side = (s: Samples): Side => ({ opsPerSec: s.opsPerSec(), p50: s.percentileUs(0.5), p99: s.percentileUs(0.99), ops: s.ops });
const round = (x: number, d: number) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : null);
const lines: Record<string, unknown>[] = [];

function report(c: string, ours: Side, baseline: Side, target: Target, oursLabel: string, baselineLabel: string, extra: Record<string, unknown> = {}) {
  // cost ratio = ours cost per op / baseline cost per op; throughput ratio = ours ops/s / baseline ops/s.
  const ratio = target.kind === "throughput" ? ours.opsPerSec / baseline.opsPerSec : baseline.opsPerSec / ours.opsPerSec;
  const pass = target.kind === "cost" ? ratio <= target.atMost : target.kind === "throughput" ? ratio >= target.atLeast : null;
  const line = {
    case: c,
    ours_ops_per_sec: round(ours.opsPerSec, 1),
    ours_p50_us: round(ours.p50, 2),
    ours_p99_us: round(ours.p99, 2),
    baseline_ops_per_sec: round(baseline.opsPerSec, 1),
    baseline_p50_us: round(baseline.p50, 2),
    baseline_p99_us: round(baseline.p99, 2),
    ratio: round(ratio, 3),
    ratio_kind: target.kind === "info" ? "cost" : target.kind,
    target: target.kind === "cost" ? `<= ${target.atMost}` : target.kind === "throughput" ? `>= ${target.atLeast}` : "info",
    pass,
    ours_ops: ours.ops,
    baseline_ops: baseline.ops,
    ours: oursLabel,
    baseline: baselineLabel,
    ...extra,
  };
  lines.push(line);
  console.log(JSON.stringify(line));
}

// ---------------------------------------------------------------------------------------------
// The work

const payload = (i: number) => ({ amount: i, currency: "EUR", account: i % 1000, note: "benchmark payload" });

/** A package write of the i-th benchmark message (built inside the timed call, as in the Rust bench). */
function packageWrite(ns: Namespace): Op {
  let i = 0;
  return {
    async: true,
    run: () => {
      i++;
      return ns.write(`account-${i % WRITE_STREAMS}`, { type: "Deposited", data: payload(i) });
    },
  };
}

function packageBatch(ns: Namespace, size: number): Op {
  let i = 0;
  return {
    async: true,
    opsPerCall: size,
    run: () => {
      i++;
      const messages = new Array(size);
      for (let k = 0; k < size; k++) messages[k] = { type: "Deposited", data: payload(i * size + k) };
      return ns.writeBatch(`account-${i % WRITE_STREAMS}`, messages);
    },
  };
}

/** bun:sqlite with messagedb's namespace schema, doing what a messagedb write does. */
class BunSqliteWriter {
  private db = new Database(":memory:");
  private begin;
  private commit;
  private version;
  private insert;
  private i = 0;
  constructor() {
    this.db.exec(readFileSync(join(ROOT, "migrations/namespace/sqlite/0001_messages.sql"), "utf8"));
    this.begin = this.db.prepare("BEGIN IMMEDIATE");
    this.commit = this.db.prepare("COMMIT");
    this.version = this.db.prepare<{ v: number | null }, [string]>("SELECT max(position) AS v FROM messages WHERE stream_name = ?");
    this.insert = this.db.prepare(
      "INSERT INTO messages (position, time, stream_name, category, type, data, metadata, id, correlation, cardinal_hash) " +
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
  }
  /** A UUIDv7 as 16 bytes. */
  private static uuid7(): Uint8Array {
    const b = randomFillSync(new Uint8Array(16));
    const ms = Date.now();
    b[0] = Math.floor(ms / 2 ** 40) & 0xff;
    b[1] = Math.floor(ms / 2 ** 32) & 0xff;
    b[2] = (ms >>> 24) & 0xff;
    b[3] = (ms >>> 16) & 0xff;
    b[4] = (ms >>> 8) & 0xff;
    b[5] = ms & 0xff;
    b[6] = (b[6] & 0x0f) | 0x70;
    b[8] = (b[8] & 0x3f) | 0x80;
    return b;
  }
  /** Message DB's hash_64 of the cardinal id (NULL without an id). */
  private static cardinalHash(stream: string): bigint | null {
    const dash = stream.indexOf("-");
    if (dash < 0) return null;
    const id = stream.slice(dash + 1);
    const plus = id.indexOf("+");
    return createHash("md5")
      .update(plus < 0 ? id : id.slice(0, plus))
      .digest()
      .readBigInt64BE(0);
  }
  write(stream: string, type: string, data: Record<string, unknown>, metadata: Record<string, unknown> | null = null) {
    this.begin.run();
    try {
      const version = this.version.get(stream)?.v ?? -1;
      const dash = stream.indexOf("-");
      const r = this.insert.run(
        version + 1,
        Date.now() * 1000,
        stream,
        dash < 0 ? stream : stream.slice(0, dash),
        type,
        JSON.stringify(data),
        metadata === null ? null : JSON.stringify(metadata),
        BunSqliteWriter.uuid7(),
        null,
        BunSqliteWriter.cardinalHash(stream),
      );
      this.commit.run();
      return { position: version + 1, globalPosition: Number(r.lastInsertRowid) };
    } catch (e) {
      this.db.exec("ROLLBACK");
      throw e;
    }
  }
  op(): Op {
    return {
      async: false,
      run: () => {
        this.i++;
        return this.write(`account-${this.i % WRITE_STREAMS}`, "Deposited", payload(this.i));
      },
    };
  }
  versionOp(): Op {
    return { async: false, run: () => this.version.get("nothing-1")?.v ?? null };
  }
  close() {
    this.db.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The Rust side

/** One run of the Rust bench's `write_single_memory`: its `ours_*` numbers (the Rust API). */
async function rustWriteSingle(): Promise<{ opsPerSec: number; p50: number; p99: number; ops: number; rusqliteOpsPerSec: number }> {
  const env = { ...process.env, CARGO_TARGET_DIR: process.env.CARGO_TARGET_DIR ?? join(process.env.HOME ?? "/root", ".cache/messagedb/target") };
  const argv = ["cargo", "run", "--release", "-q", "-p", "messagedb-bench", "--bin", "messagedb-bench", "--", "--case", "write_single_memory", ...(QUICK ? ["--quick"] : [])];
  const proc = Bun.spawn(argv, { cwd: ROOT, env, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}:\n${err}`);
  const line = out.split("\n").find((l) => l.startsWith("{") && l.includes('"write_single_memory"'));
  if (!line) throw new Error(`no write_single_memory line in the Rust bench output:\n${out}\n${err}`);
  const j = JSON.parse(line);
  return { opsPerSec: j.ours_ops_per_sec, p50: j.ours_p50_us, p99: j.ours_p99_us, ops: j.ours_ops, rusqliteOpsPerSec: j.baseline_ops_per_sec };
}

// ---------------------------------------------------------------------------------------------
// Cases

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const cases: Record<string, () => Promise<void>> = {
  async event_loop_during_large_reads() {
    const nativeAddon = require(join(ROOT, "bindings-node/native/index.cjs"));
    const dir = mkdtempSync(join(tmpdir(), "messagedb-bench-"));
    const store = await MessageStore.open(`sqlite://${dir}`);
    const ns = store.namespace("default");
    const LARGE = 10_000;
    for (let b = 0; b < LARGE / 1000; b++) {
      const batch = Array.from({ length: 1000 }, (_, i) => ({ type: "Filled", data: { n: i, text: "a payload of some size" } }));
      await ns.writeBatch(`large-${b}`, batch);
    }
    const gapsWhileReading = async (inline: boolean, ms: number, into: number[]) => {
      nativeAddon._benchInlineReads(inline);
      let last = performance.now();
      const timer = setInterval(() => {
        const now = performance.now();
        into.push(now - last);
        last = now;
      }, 1);
      const end = performance.now() + ms;
      while (performance.now() < end) {
        const page = await ns.getCategory("large", { batchSize: LARGE });
        if (page.length !== LARGE) throw new Error(`read ${page.length} messages`);
        await new Promise((r) => setImmediate(r));
      }
      clearInterval(timer);
    };
    const ours: number[] = [];
    const inline: number[] = [];
    for (let r = 0; r < PLAN.rounds; r++) {
      await gapsWhileReading(false, PLAN.roundMs * 2, ours);
      await gapsWhileReading(true, PLAN.roundMs * 2, inline);
    }
    nativeAddon._benchInlineReads(false);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    const q = (xs: number[], p: number) => {
      const s = [...xs].sort((a, b) => a - b);
      return Math.round(s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] * 1000) / 1000;
    };
    const line = {
      case: "event_loop_during_large_reads",
      ours_gap_ms: { p50: q(ours, 0.5), p99: q(ours, 0.99), max: q(ours, 1) },
      inline_gap_ms: { p50: q(inline, 0.5), p99: q(inline, 0.99), max: q(inline, 1) },
      ratio_p99: Math.round((q(ours, 0.99) / q(inline, 0.99)) * 1000) / 1000,
      samples: [ours.length, inline.length],
    };
    console.log(JSON.stringify(line));
    console.error(JSON.stringify(line));
  },
  async write_single_vs_rust() {
    const store = await MessageStore.open(":memory:");
    const op = packageWrite(store.namespace("default"));
    await slice(op, PLAN.warmupMs);
    const js = new Samples();
    const rust: Awaited<ReturnType<typeof rustWriteSingle>>[] = [];
    // Package rounds before, between and after the Rust runs.
    const rustRuns = QUICK ? 1 : 2;
    for (let r = 0; r <= rustRuns; r++) {
      for (let k = 0; k < PLAN.rounds / 2; k++) await slice(op, PLAN.roundMs, js);
      if (r < rustRuns) rust.push(await rustWriteSingle());
    }
    await store.close();
    const totalOps = rust.reduce((a, x) => a + x.ops, 0);
    const totalSec = rust.reduce((a, x) => a + x.ops / x.opsPerSec, 0);
    report(
      "write_single_vs_rust",
      side(js),
      { opsPerSec: totalOps / totalSec, p50: median(rust.map((x) => x.p50)), p99: median(rust.map((x) => x.p99)), ops: totalOps },
      { kind: "cost", atMost: 1.5 },
      "package (Bun): await ns.write(stream, {type, data}) on \":memory:\", one message, no expected version",
      "Rust API: Namespace::write, same message (messagedb-bench write_single_memory, its `ours` side)",
      { rust_runs: rust.length, rust_rusqlite_ops_per_sec: round(median(rust.map((x) => x.rusqliteOpsPerSec)), 1) },
    );
  },

  async write_batch_100_vs_single_memory() {
    const store = await MessageStore.open(":memory:");
    const ns = store.namespace("default");
    const [batch, single] = await interleave(packageBatch(ns, 100), packageWrite(ns));
    await store.close();
    report(
      "write_batch_100_vs_single_memory",
      side(batch),
      side(single),
      { kind: "throughput", atLeast: 20 },
      "package: writeBatch of 100 messages on \":memory:\" (ops = messages; latency per message)",
      "package: single writes on \":memory:\"",
    );
  },

  async write_batch_100_vs_single_dir() {
    const dir = mkdtempSync(join(tmpdir(), "messagedb-bench-"));
    try {
      const store = await MessageStore.open(dir);
      const ns = store.namespace("default");
      const [batch, single] = await interleave(packageBatch(ns, 100), packageWrite(ns));
      await store.close();
      report(
        "write_batch_100_vs_single_dir",
        side(batch),
        side(single),
        { kind: "throughput", atLeast: 20 },
        "package: writeBatch of 100 messages on a SQLite directory (ops = messages; latency per message)",
        "package: single writes on a SQLite directory",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },

  async write_vs_bun_sqlite_memory() {
    const store = await MessageStore.open(":memory:");
    const baseline = new BunSqliteWriter();
    const [ours, base] = await interleave(packageWrite(store.namespace("default")), baseline.op());
    await store.close();
    baseline.close();
    report(
      "write_vs_bun_sqlite_memory",
      side(ours),
      side(base),
      { kind: "cost", atMost: 2 },
      "package (Bun): await ns.write on \":memory:\", one message, no expected version",
      "bun:sqlite in memory, same schema: BEGIN IMMEDIATE, max(position), INSERT (UUIDv7 blob, JSON, category, cardinal hash), COMMIT",
    );
  },

  async async_call_overhead() {
    const store = await MessageStore.open(":memory:");
    const ns = store.namespace("default");
    const baseline = new BunSqliteWriter();
    const [ours, base] = await interleave({ async: true, run: () => ns.streamVersion("nothing-1") }, baseline.versionOp());
    await store.close();
    baseline.close();
    report(
      "async_call_overhead",
      side(ours),
      side(base),
      { kind: "info" },
      "package: await ns.streamVersion of an empty stream (one async native call)",
      "bun:sqlite: the same SELECT max(position) … WHERE stream_name = ?, synchronously",
    );
  },
};

// ---------------------------------------------------------------------------------------------

const addon = join(ROOT, "bindings-node/native/messagedb.linux-x64-gnu.node");
try {
  const st = statSync(addon);
  console.error(`addon ${addon} (${(st.size / 1e6).toFixed(1)} MB, built ${st.mtime.toISOString()}); build it with npm run build:native:release`);
} catch {
  console.error(`addon ${addon} not found`);
}
for (const name of Object.keys(cases)) {
  if (ONLY.length > 0 && !ONLY.includes(name)) continue;
  console.error(`running ${name}…`);
  await cases[name]();
}
console.error("\ncase                                  ours op/s   p50 us   base op/s   p50 us     ratio   target  pass");
for (const l of lines as any[]) {
  console.error(
    `${String(l.case).padEnd(36)} ${String(Math.round(l.ours_ops_per_sec)).padStart(10)} ${String(l.ours_p50_us).padStart(8)} ` +
      `${String(Math.round(l.baseline_ops_per_sec)).padStart(11)} ${String(l.baseline_p50_us).padStart(8)} ${String(l.ratio).padStart(9)} ` +
      `${`${l.ratio_kind === "cost" ? "cost" : "thr"} ${l.target}`.padStart(12)}  ${l.pass === null ? "info" : l.pass ? "yes" : "NO"}`,
  );
}
