// The deployment files (Dockerfile, docker-compose.yml, deploy/messagedb.service) run what they
// say: each one's command line is run here with MESSAGEDB_BIN in place of the installed binary
// and a temporary directory in place of the data directory. No container engine or systemd runs
// here; docs/containers.md says what this does and does not cover.
import { describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { binary, cleanupAfterAll, call, httpRequest, runCli, startServer, tempDir, within } from "./harness";

cleanupAfterAll();

const root = resolve(import.meta.dir, "..");
const read = (path: string) => readFileSync(join(root, path), "utf8");

// ---------------------------------------------------------------------------------------------
// Parsing

interface Stage {
  from: string;
  lines: string[];
}

/** The Dockerfile's instructions (continuations joined, comments dropped), split into stages. */
function dockerStages(text: string): Stage[] {
  const joined: string[] = [];
  let pending = "";
  for (const raw of text.split("\n")) {
    if (/^\s*#/.test(raw)) continue;
    const line = raw.replace(/\s+$/, "");
    if (line.endsWith("\\")) {
      pending += line.slice(0, -1) + " ";
      continue;
    }
    const whole = (pending + line).trim();
    pending = "";
    if (whole) joined.push(whole);
  }
  const stages: Stage[] = [];
  for (const line of joined) {
    const [word, ...rest] = line.split(/\s+/);
    if (word.toUpperCase() === "FROM") stages.push({ from: rest.join(" "), lines: [] });
    else stages.at(-1)?.lines.push(line);
  }
  return stages;
}

/** The arguments of every instruction `name` of a stage. */
function instructions(stage: Stage, name: string): string[] {
  return stage.lines
    .filter((l) => l.split(/\s+/)[0].toUpperCase() === name)
    .map((l) => l.slice(name.length).trim());
}

/** `ENV a=b c="d"` pairs. */
function envPairs(args: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("([^"]*)"|\S*)/g)) out[m[1]] = m[3] ?? m[2];
  return out;
}

interface Image {
  buildFrom: string;
  buildRuns: string[];
  copied: string[];
  env: Record<string, string>;
  expose: number[];
  volumes: string[];
  workdir: string;
  user: string;
  entrypoint: string[];
  cmd: string[];
  health: { options: Record<string, string>; shell: string };
  stopSignal: string | undefined;
}

function parseDockerfile(text: string): Image {
  const stages = dockerStages(text);
  expect(stages.length).toBeGreaterThanOrEqual(2);
  const build = stages[0];
  const run = stages.at(-1)!;
  const one = (name: string) => {
    const all = instructions(run, name);
    expect({ name, count: all.length }).toEqual({ name, count: 1 });
    return all[0];
  };
  const env: Record<string, string> = {};
  for (const e of instructions(run, "ENV")) Object.assign(env, envPairs(e));
  const health = one("HEALTHCHECK");
  const m = health.match(/^((?:--[a-z-]+=\S+\s+)*)CMD\s+(.+)$/);
  if (!m) throw new Error(`HEALTHCHECK not understood: ${health}`);
  const options: Record<string, string> = {};
  for (const o of m[1].trim().split(/\s+/).filter(Boolean)) {
    const [k, v] = o.slice(2).split("=");
    options[k] = v;
  }
  // The shell form: Docker runs it with /bin/sh -c. (The exec form, a JSON array, is not used.)
  expect(m[2].startsWith("[")).toBe(false);
  return {
    buildFrom: build.from,
    buildRuns: instructions(build, "RUN"),
    copied: instructions(run, "COPY"),
    env,
    expose: instructions(run, "EXPOSE").flatMap((e) => e.split(/\s+/).map((p) => Number(p.split("/")[0]))),
    volumes: instructions(run, "VOLUME").flatMap((v) => (v.startsWith("[") ? JSON.parse(v) : v.split(/\s+/))),
    workdir: one("WORKDIR"),
    user: one("USER"),
    entrypoint: JSON.parse(one("ENTRYPOINT")),
    cmd: JSON.parse(one("CMD")),
    health: { options, shell: m[2] },
    stopSignal: instructions(run, "STOPSIGNAL")[0],
  };
}

/** A systemd unit: section → key → values (a key may repeat). */
function parseUnit(text: string): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {};
  let section = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const s = line.match(/^\[(.+)\]$/);
    if (s) {
      section = s[1];
      out[section] ??= {};
      continue;
    }
    const i = line.indexOf("=");
    const key = line.slice(0, i).trim();
    (out[section][key] ??= []).push(line.slice(i + 1).trim());
  }
  return out;
}

/** The duration of a Docker or systemd time span (`10s`, `1m`, `500ms`), in milliseconds. */
function millis(span: string): number {
  const m = span.match(/^(\d+(?:\.\d+)?)(ms|s|m|min)?$/);
  if (!m) throw new Error(`not a time span: ${span}`);
  const n = Number(m[1]);
  return m[2] === "ms" ? n : m[2] === "m" || m[2] === "min" ? n * 60_000 : n * 1000;
}

/** A port nobody listens on now. */
function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

/** Runs `sh -c command` with `env` (and PATH), killed at `timeoutMs`; returns the exit code. */
async function shell(command: string, env: Record<string, string>, timeoutMs: number): Promise<number | null> {
  const proc = Bun.spawn(["sh", "-c", command], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "ignore",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const code = await proc.exited;
  clearTimeout(timer);
  return proc.signalCode ? null : code;
}

/** The environment variables the binary reads (from `messagedb serve --help`). */
async function flagVariables(): Promise<Set<string>> {
  const help = await runCli(["serve", "--help"]);
  expect(help.code).toBe(0);
  return new Set([...help.stdout.matchAll(/MESSAGEDB_[A-Z_]+/g)].map((m) => m[0]));
}

function makeToken(): string {
  return `ns_ZGVmYXVsdA_${randomBytes(32).toString("hex")}`;
}

const image = parseDockerfile(read("Dockerfile"));

// ---------------------------------------------------------------------------------------------
// Dockerfile

describe("Dockerfile", () => {
  test("builds the server package in release mode with a Rust at least the workspace's rust-version", () => {
    const rustVersion = read("Cargo.toml").match(/^rust-version\s*=\s*"(\d+)\.(\d+)"/m)!;
    const m = image.buildFrom.match(/^rust:(\d+)\.(\d+)\S*\s+AS\s+\S+$/i);
    expect(m).not.toBeNull();
    const [have, want] = [Number(m![1]) * 1000 + Number(m![2]), Number(rustVersion[1]) * 1000 + Number(rustVersion[2])];
    expect(have).toBeGreaterThanOrEqual(want);
    expect(image.buildRuns.join("\n")).toContain("cargo build --release --locked -p messagedb-server");
    // The binary the image runs is the one the build stage installed.
    expect(image.copied.some((c) => c.startsWith("--from=build") && c.endsWith(image.entrypoint[0]))).toBe(true);
  });

  test("runs as a user of its own, serves /data on the exposed port", () => {
    expect(image.user).not.toBe("root");
    expect(image.user).not.toBe("0");
    expect(image.volumes).toEqual(["/data"]);
    expect(image.env.MESSAGEDB_DATA_DIR).toBe("/data");
    expect(image.expose).toEqual([Number(image.env.MESSAGEDB_PORT)]);
    expect(image.stopSignal ?? "SIGTERM").toBe("SIGTERM");
  });

  test("every ENV is a variable the binary reads", async () => {
    const known = await flagVariables();
    for (const k of Object.keys(image.env)) expect({ k, known: known.has(k) }).toEqual({ k, known: true });
  });

  test(".dockerignore keeps every file the build needs", () => {
    const ignored = read(".dockerignore")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"));
    const members = [...read("Cargo.toml").matchAll(/"([a-z-]+)"/g)]
      .map((m) => m[1])
      .filter((m) => existsSync(join(root, m, "Cargo.toml")));
    expect(members).toEqual(expect.arrayContaining(["core", "server"]));
    for (const needed of [...members, "Cargo.toml", "Cargo.lock", "migrations"]) {
      for (const pattern of ignored) {
        const p = pattern.replace(/^\*\*\//, "").replace(/\/\*\*$/, "");
        expect({ needed, pattern, ignored: needed === p || needed.startsWith(`${p}/`) }).toEqual({
          needed,
          pattern,
          ignored: false,
        });
      }
    }
  });

  test("the entrypoint serves; the HEALTHCHECK passes while it runs and fails once it stopped", async () => {
    const data = tempDir("messagedb-docker-data-");
    const port = await freePort();
    // `docker run -e MESSAGEDB_PORT=…`: the image's ENV with the port of this test.
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(image.env)) env[k] = v.replaceAll("/data", data);
    env.MESSAGEDB_PORT = String(port);
    const token = makeToken();
    env.MESSAGEDB_TOKEN = token;
    expect(image.entrypoint[0]).toBe("/usr/local/bin/messagedb");
    const argv = [...image.entrypoint.slice(1), ...image.cmd];
    const server = await startServer({ argv, env, cwd: image.workdir.replace("/data", data) });
    expect(server.port).toBe(port);
    expect(server.token).toBe(token);
    await call(server.url, token, "stream.write", "deploy-1", { type: "Checked", data: {} });
    expect(existsSync(join(data, "metadata.sqlite3"))).toBe(true);
    expect(readdirSync(join(data, "namespaces"))).toContain("default.sqlite3");
    // --log-format json: the stop is logged as a JSON line on stderr.
    const timeout = millis(image.health.options.timeout ?? "30s");
    expect(await shell(image.health.shell, env, timeout + 2000)).toBe(0);

    const stopped = await server.stop("SIGTERM");
    expect(stopped.code).toBe(0);
    const logged = server.stderr().trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
    expect(logged.some((l) => l.fields?.message === "stopping")).toBe(true);
    expect(await shell(image.health.shell, env, timeout + 2000)).not.toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// systemd unit

describe("deploy/messagedb.service", () => {
  const unit = parseUnit(read("deploy/messagedb.service"));
  const service = unit.Service;
  const stateDir = `/var/lib/${service.StateDirectory[0]}`;
  const execStart = service.ExecStart[0].split(/\s+/);

  test("is hardened and reads the token from an environment file", () => {
    expect(service.EnvironmentFile).toEqual(["-/etc/messagedb/env"]);
    for (const [key, value] of [
      ["NoNewPrivileges", "yes"],
      ["ProtectSystem", "strict"],
      ["DynamicUser", "yes"],
      ["Restart", "on-failure"],
      ["KillSignal", "SIGTERM"],
    ]) {
      expect({ key, value: service[key] }).toEqual({ key, value: [value] });
    }
    expect(execStart).toContain(stateDir);
    expect(unit.Install.WantedBy).toEqual(["multi-user.target"]);
  });

  test("ExecStart serves from the state directory; SIGTERM stops it with exit 0", async () => {
    const state = tempDir("messagedb-systemd-state-");
    const token = makeToken();
    // /etc/messagedb/env as docs/operations/service.md writes it, plus a free port for this test.
    const envFile = join(tempDir(), "env");
    writeFileSync(envFile, `MESSAGEDB_TOKEN=${token}\nMESSAGEDB_PORT=0\n`);
    const env: Record<string, string> = {};
    for (const line of readFileSync(envFile, "utf8").split("\n")) {
      const i = line.indexOf("=");
      if (i > 0 && !line.startsWith("#")) env[line.slice(0, i)] = line.slice(i + 1);
    }
    expect(execStart[0]).toBe("/usr/local/bin/messagedb");
    const argv = execStart.slice(1).map((a) => a.replace(stateDir, state));
    const server = await startServer({ argv, env });
    expect(server.token).toBe(token);
    await call(server.url, token, "stream.write", "unit-1", { type: "Checked", data: {} });
    expect(existsSync(join(state, "namespaces", "default.sqlite3"))).toBe(true);
    expect((await httpRequest(`${server.url}/health`)).body).toEqual({ status: "ok" });
    const stopped = await server.stop("SIGTERM");
    expect(stopped.code).toBe(0);
    expect(stopped.ms).toBeLessThan(millis(service.TimeoutStopSec[0]));
    for (const line of server.stderr().trim().split("\n").filter(Boolean)) expect(() => JSON.parse(line)).not.toThrow();
  });

  const analyze = Bun.which("systemd-analyze");
  test.skipIf(!analyze)("systemd-analyze verify finds nothing to say", async () => {
    const dir = tempDir("messagedb-unit-");
    const copy = join(dir, "messagedb.service");
    copyFileSync(join(root, "deploy/messagedb.service"), copy);
    writeFileSync(copy, readFileSync(copy, "utf8").replaceAll("/usr/local/bin/messagedb", binary()));
    const proc = Bun.spawn([analyze!, "verify", copy], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const timer = setTimeout(() => proc.kill("SIGKILL"), 20000);
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    clearTimeout(timer);
    // verify exits 0 even for unknown keys and bad values: it only prints them.
    expect({ code, output: (out + err).trim() }).toEqual({ code: 0, output: "" });
  }, 25000);
});

// ---------------------------------------------------------------------------------------------
// docker-compose.yml

describe("docker-compose.yml", () => {
  const compose = Bun.YAML.parse(read("docker-compose.yml")) as any;
  const app = compose.services.messagedb;
  const pg = compose.services.postgres;

  test("the messagedb service runs the Dockerfile's image as it is", async () => {
    expect(app.build).toBe(".");
    expect(app.command ?? image.cmd).toEqual(image.cmd);
    expect(app.entrypoint ?? image.entrypoint).toEqual(image.entrypoint);
    const known = await flagVariables();
    for (const k of Object.keys(app.environment)) expect({ k, known: known.has(k) }).toEqual({ k, known: true });
    expect(app.environment.MESSAGEDB_TOKEN).toMatch(/^\$\{MESSAGEDB_TOKEN/);
    expect(app.environment.MESSAGEDB_PORT ?? image.env.MESSAGEDB_PORT).toBe(image.env.MESSAGEDB_PORT);
    expect(app.ports.map((p: string) => Number(String(p).split(":").at(-1)))).toEqual(image.expose);
    expect(app.volumes.map((v: string) => v.split(":")[1])).toEqual(image.volumes);
    // The healthcheck is the image's ($$ is compose's escape for $).
    expect(app.healthcheck.test[0]).toBe("CMD-SHELL");
    expect(app.healthcheck.test[1].replaceAll("$$", "$")).toBe(image.health.shell);
    expect(app.depends_on.postgres.condition).toBe("service_healthy");
  });

  test("PostgreSQL 15 with a healthcheck, and the URL names its user, password and database", () => {
    expect(pg.image).toBe("postgres:15");
    expect(pg.healthcheck.test.join(" ")).toContain("pg_isready");
    const url = new URL(app.environment.MESSAGEDB_DB_URL.replace("${POSTGRES_PASSWORD}", "x"));
    expect(url.protocol).toBe("postgres:");
    expect(url.hostname).toBe("postgres");
    expect(url.username).toBe(pg.environment.POSTGRES_USER);
    expect(url.pathname).toBe(`/${pg.environment.POSTGRES_DB}`);
    expect(app.environment.MESSAGEDB_DB_URL).toContain(":${POSTGRES_PASSWORD}@");
    expect(pg.volumes.map((v: string) => v.split(":")[1])).toEqual(["/var/lib/postgresql/data"]);
    for (const v of [...pg.volumes, ...app.volumes]) expect(Object.keys(compose.volumes)).toContain(v.split(":")[0]);
  });

  test("the compose healthcheck passes against the served command", async () => {
    const data = tempDir("messagedb-compose-data-");
    const port = await freePort();
    const env: Record<string, string> = { ...image.env, MESSAGEDB_DATA_DIR: data, MESSAGEDB_PORT: String(port) };
    for (const [k, v] of Object.entries(app.environment as Record<string, string>)) {
      // Without its PostgreSQL: the rest of the environment as compose gives it.
      if (k === "MESSAGEDB_DB_URL" || k === "MESSAGEDB_PORT") continue;
      env[k] = v.startsWith("${MESSAGEDB_TOKEN") ? makeToken() : v;
    }
    const server = await startServer({ argv: [...image.entrypoint.slice(1), ...app.command], env, cwd: data });
    const check = app.healthcheck.test[1].replaceAll("$$", "$");
    expect(await within(shell(check, env, millis(app.healthcheck.timeout) + 2000), 10000, "healthcheck")).toBe(0);
    expect((await server.stop("SIGTERM")).code).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// deploy/prometheus.yml

test("deploy/prometheus.yml scrapes /metrics of the messagedb job", () => {
  const config = Bun.YAML.parse(read("deploy/prometheus.yml")) as any;
  const job = config.scrape_configs.find((j: any) => j.job_name === "messagedb");
  expect(job.metrics_path ?? "/metrics").toBe("/metrics");
  expect(job.static_configs[0].targets.length).toBeGreaterThan(0);
});
