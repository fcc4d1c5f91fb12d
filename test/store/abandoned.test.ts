// An abandoned subscription does not keep the process alive: a child process opens a store,
// starts a subscription, reads one message and then stops iterating (without break, or with break),
// never closing anything; it must exit by itself.
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeTempDirs, tempDir } from "./util";

afterAll(removeTempDirs);

/** The installed package's entry, so the child loads the same package as this suite. */
const entry = Bun.resolveSync("messagedb", import.meta.dir);
const EXIT_DEADLINE_MS = 15_000;

const script = (how: "no-break" | "break") => `
import { MessageStore } from ${JSON.stringify(entry)};
const store = await MessageStore.open(process.argv[2]);
const ns = store.namespace("default");
await ns.write("account-1", { type: "First", data: {} });
${
  how === "no-break"
    ? `const sub = ns.subscribe({ category: "account" });
const first = await sub.next();
console.log("got " + first.value.type + " " + first.value.globalPosition);
// Stop iterating: no break, no return(), no close().`
    : `for await (const m of ns.subscribe({ category: "account" })) {
  console.log("got " + m.type + " " + m.globalPosition);
  break;
}
// The store stays open.`
}
`;

async function runChild(runtime: string, file: string, storeUrl: string) {
  const proc = Bun.spawn([runtime, file, storeUrl], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const t0 = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exited = await Promise.race([
    proc.exited.then(() => true),
    new Promise<false>((r) => (timer = setTimeout(() => r(false), EXIT_DEADLINE_MS))),
  ]);
  clearTimeout(timer);
  const ms = performance.now() - t0;
  if (!exited) proc.kill("SIGKILL");
  await proc.exited;
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { exited, ms, code: proc.exitCode, signal: proc.signalCode, stdout, stderr };
}

const runtimes: [string, string][] = [["bun", process.execPath]];
const node = Bun.which("node");
if (node) runtimes.push(["node", node]);

describe("an abandoned subscription does not keep the process alive", () => {
  for (const [runtimeName, runtime] of runtimes) {
    for (const how of ["no-break", "break"] as const) {
      for (const where of [":memory:", "directory"] as const) {
        test(`${runtimeName}: ${how === "no-break" ? "stops iterating without break" : "break"}, store on ${where}`, async () => {
          const dir = tempDir("messagedb-abandon-");
          const file = join(dir, "child.mjs");
          writeFileSync(file, script(how));
          const r = await runChild(runtime, file, where === ":memory:" ? ":memory:" : join(dir, "data"));
          const ctx = JSON.stringify({ stdout: r.stdout, stderr: r.stderr.slice(-2000), ms: Math.round(r.ms) });
          expect({ exitedByItself: r.exited, ctx }).toEqual({ exitedByItself: true, ctx });
          expect({ code: r.code, signal: r.signal, ctx }).toEqual({ code: 0, signal: null, ctx });
          expect(r.stdout.trim()).toBe("got First 1");
        }, EXIT_DEADLINE_MS + 10_000);
      }
    }
  }
});
