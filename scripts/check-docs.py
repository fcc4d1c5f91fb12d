#!/usr/bin/env python3
"""Checks the docs and runs the examples, as docs/checking.md describes.

    python3 scripts/check-docs.py                     everything
    python3 scripts/check-docs.py docs/concepts.md    those pages only (no examples)
    python3 scripts/check-docs.py --example 01-write-read [--example …]   those examples only

Needs (scripts/test-docs.sh sets them): MESSAGEDB_BIN (the server binary), MESSAGEDB_JS_PROJECT (a
directory with the packed npm package and bun installed), MESSAGEDB_PYTHON (a Python with the wheel
installed), CARGO_TARGET_DIR (where the Rust examples were built, in debug).

Prints `ok - …` / `not ok - …` per check, then `# pass N` and `# fail M`; exits 1 on any failure.
Every process it starts has a deadline (BLOCK_TIMEOUT) and is killed with its group past it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCK_TIMEOUT = 90  # seconds for one block or one example run
SERVER_START_TIMEOUT = 30
WILDCARD = "…"

FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
INCLUDE = re.compile(r"^<!--\s*include:\s*(\S+?)\s*-->\s*$")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
INLINE_CODE = re.compile(r"(`+).+?\1")
RPC_METHOD = re.compile(r'^\s*"([a-z]+\.[A-Za-z]+)"\s*=>', re.M)
IMPORT_CODE = re.compile(r'ImportErrorCode::\w+\s*=>\s*"([A-Z_]+)"')


@dataclass
class Block:
    line: int
    lang: str
    words: list[str]
    text: str
    include: str | None = None


@dataclass
class Page:
    path: Path
    blocks: list[Block] = field(default_factory=list)
    headings: list[tuple[int, str]] = field(default_factory=list)  # (level, raw text)
    links: list[tuple[int, str]] = field(default_factory=list)

    @property
    def rel(self) -> str:
        return str(self.path.relative_to(ROOT))


class Report:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def ok(self, what: str) -> None:
        self.passed += 1
        print(f"ok - {what}", flush=True)

    def fail(self, what: str, detail: str = "") -> None:
        self.failed += 1
        print(f"not ok - {what}", flush=True)
        for line in detail.rstrip().splitlines():
            print(f"    {line}", flush=True)

    def check(self, cond: bool, what: str, detail: str = "") -> None:
        if cond:
            self.ok(what)
        else:
            self.fail(what, detail)


# ---------------------------------------------------------------- parsing


def parse(path: Path) -> Page:
    page = Page(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    pending_include: str | None = None
    while i < len(lines):
        line = lines[i]
        m = FENCE.match(line)
        if m:
            indent, fence, info = m.group(1), m.group(2), m.group(3).strip()
            words = info.split()
            body: list[str] = []
            j = i + 1
            while j < len(lines):
                close = lines[j].strip()
                if close.startswith(fence[0] * len(fence)) and set(close) <= {fence[0]}:
                    break
                body.append(lines[j][len(indent) :] if lines[j].startswith(indent) else lines[j])
                j += 1
            text = "\n".join(body) + ("\n" if body else "")
            lang = words[0] if words else ""
            page.blocks.append(Block(i + 1, lang, words[1:], text, pending_include))
            pending_include = None
            i = j + 1
            continue
        inc = INCLUDE.match(line.strip())
        if inc:
            pending_include = inc.group(1)
        elif line.strip():
            pending_include = None
            h = HEADING.match(line)
            if h:
                page.headings.append((len(h.group(1)), h.group(2)))
            for link in LINK.finditer(INLINE_CODE.sub("", line)):
                page.links.append((i + 1, link.group(1)))
        i += 1
    return page


def slug(heading: str) -> str:
    """The anchor a code host (GitHub) gives a heading."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"<[^>]+>", "", text)
    out = []
    for c in text.lower():
        if c.isalnum() or c in "-_":
            out.append(c)
        elif c == " ":
            out.append("-")
    return "".join(out)


def anchors(page: Page) -> set[str]:
    seen: dict[str, int] = {}
    result = set()
    for _, text in page.headings:
        base = slug(text)
        n = seen.get(base, 0)
        seen[base] = n + 1
        result.add(base if n == 0 else f"{base}-{n}")
    # Explicit HTML anchors: <a id="x"></a> / name="x".
    for m in re.finditer(r"<a\s+(?:id|name)=\"([^\"]+)\"", page.path.read_text(encoding="utf-8")):
        result.add(m.group(1))
    return result


# ---------------------------------------------------------------- links


def check_links(page: Page, pages: dict[Path, Page], report: Report) -> None:
    bad = []
    for line, target in page.links:
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto:
            continue
        path_part, _, anchor = target.partition("#")
        dest = page.path if not path_part else (page.path.parent / path_part).resolve()
        if not dest.exists():
            bad.append(f"line {line}: {target}: {dest.relative_to(ROOT) if dest.is_relative_to(ROOT) else dest} does not exist")
            continue
        if not dest.is_relative_to(ROOT):
            bad.append(f"line {line}: {target}: points outside the repository")
            continue
        if anchor:
            if dest.suffix != ".md":
                continue  # a line anchor (#L10) on a source file: not checked
            target_page = pages.get(dest) or parse(dest)
            if anchor not in anchors(target_page):
                bad.append(f"line {line}: {target}: no heading with anchor #{anchor} in {dest.relative_to(ROOT)}")
    report.check(not bad, f"{page.rel}: {len(page.links)} links and anchors resolve", "\n".join(bad))


# ---------------------------------------------------------------- includes


def region_of(path: Path, region: str | None) -> str:
    lines = path.read_text(encoding="utf-8").splitlines()
    if region:
        start = end = None
        for n, line in enumerate(lines):
            s = line.strip()
            if re.fullmatch(rf"(//|#)\s*\[{re.escape(region)}\]", s):
                start = n + 1
            elif re.fullmatch(rf"(//|#)\s*\[/{re.escape(region)}\]", s):
                end = n
        if start is None or end is None or end < start:
            raise ValueError(f"region [{region}] not found in {path.relative_to(ROOT)}")
        lines = lines[start:end]
    indents = [len(x) - len(x.lstrip()) for x in lines if x.strip()]
    cut = min(indents) if indents else 0
    return "\n".join(x[cut:] for x in lines).strip("\n") + "\n"


def check_include(page: Page, block: Block, report: Report) -> None:
    assert block.include is not None
    file, _, region = block.include.partition("#")
    what = f"{page.rel}:{block.line}: block equals {block.include}"
    path = ROOT / file
    try:
        expected = region_of(path, region or None)
    except (OSError, ValueError) as e:
        report.fail(what, str(e))
        return
    if block.text.strip("\n") + "\n" == expected:
        report.ok(what)
    else:
        import difflib

        diff = difflib.unified_diff(
            expected.splitlines(), block.text.splitlines(), "the file", "the page", lineterm=""
        )
        report.fail(what, "\n".join(diff))


# ---------------------------------------------------------------- output comparison


def json_matches(expected: object, actual: object) -> bool:
    if expected == WILDCARD:
        return True
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(json_matches(expected[k], actual[k]) for k in expected)
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(json_matches(e, a) for e, a in zip(expected, actual))
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    return expected == actual


def parse_json(text: str) -> tuple[bool, object]:
    try:
        return True, json.loads(text)
    except ValueError:
        return False, None


def line_matches(expected: str, actual: str) -> bool:
    e_ok, e = parse_json(expected)
    a_ok, a = parse_json(actual)
    if e_ok and a_ok and expected.strip() and not isinstance(e, (int, float)):
        return json_matches(e, a)
    if WILDCARD in expected:
        pattern = ".*".join(re.escape(part) for part in expected.split(WILDCARD))
        return re.fullmatch(pattern, actual) is not None
    return expected == actual


def output_matches(expected: str, actual: str) -> bool:
    e_ok, e = parse_json(expected)
    a_ok, a = parse_json(actual)
    if e_ok and a_ok and expected.strip():
        return json_matches(e, a)
    exp = [x.rstrip() for x in expected.rstrip().splitlines()]
    act = [x.rstrip() for x in actual.rstrip().splitlines()]
    return len(exp) == len(act) and all(line_matches(e, a) for e, a in zip(exp, act))


# ---------------------------------------------------------------- running


def run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: int = BLOCK_TIMEOUT) -> tuple[int, str, str]:
    """Runs a command in its own process group, killed with the group past the deadline."""
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
        return proc.returncode, out, err
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return -1, out, err + f"\n(killed: still running after {timeout} s)"


class PageServer:
    """A `messagedb serve` on a fresh SQLite directory and a free port, for one page's blocks."""

    def __init__(self, bin_path: str, scratch: Path) -> None:
        self.token = "ns_ZGVmYXVsdA_" + secrets.token_hex(32)
        self.log = open(scratch / "server.log", "w+", encoding="utf-8")
        self.proc = subprocess.Popen(
            [bin_path, "serve", "--port", "0", "--host", "127.0.0.1", "--data-dir", str(scratch / "server-data"),
             "--token", self.token],
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        self.port: int | None = None
        while time.monotonic() < deadline and self.proc.poll() is None:
            self.log.seek(0)
            m = re.search(r"listening on http://\S+:(\d+)", self.log.read())
            if m:
                self.port = int(m.group(1))
                break
            time.sleep(0.05)
        if self.port is None:
            self.log.seek(0)
            output = self.log.read()
            self.stop()
            raise RuntimeError(f"the page's server did not start within {SERVER_START_TIMEOUT} s:\n{output}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.log.close()


class PageDatabase:
    """A fresh database on the test PostgreSQL (MESSAGEDB_TEST_PG_URL), for a page whose blocks use
    `$DATABASE_URL`; dropped when the page is done."""

    def __init__(self, env: dict[str, str]) -> None:
        base = env.get("MESSAGEDB_TEST_PG_URL")
        if not base:
            raise RuntimeError("the page uses $DATABASE_URL: set MESSAGEDB_TEST_PG_URL (scripts/test-docs.sh does)")
        self.base, self.env = base, env
        self.name = f"docs_{secrets.token_hex(4)}"
        self.sql(f"CREATE DATABASE {self.name}")
        self.url = re.sub(r"/[^/?]*(\?|$)", rf"/{self.name}\1", base.split("://", 1)[1], count=1)
        self.url = base.split("://", 1)[0] + "://" + self.url

    def sql(self, statement: str) -> None:
        code, out, err = run(["psql", self.base, "-v", "ON_ERROR_STOP=1", "-qc", statement], ROOT, self.env, 60)
        if code != 0:
            raise RuntimeError(f"psql: {statement}: exit {code}\n{out}{err}")

    def drop(self) -> None:
        self.sql(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


class Runner:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.bin = env["MESSAGEDB_BIN"]
        self.js_project = Path(env["MESSAGEDB_JS_PROJECT"])
        self.python = env["MESSAGEDB_PYTHON"]
        self.bun = str(self.js_project / "node_modules" / ".bin" / "bun")

    def block_env(self, server: PageServer | None, database: PageDatabase | None = None) -> dict[str, str]:
        env = dict(self.env)
        env["PATH"] = f"{Path(self.bin).parent}{os.pathsep}{env.get('PATH', '')}"
        if server is not None:
            env["TOKEN"] = server.token
        if database is not None:
            env["DATABASE_URL"] = database.url
        return env

    def run_page(self, page: Page, report: Report) -> None:
        runnable = [(n, b) for n, b in enumerate(page.blocks) if "run" in b.words]
        if not runnable:
            return
        scratch = Path(tempfile.mkdtemp(prefix="messagedb-docs-"))
        server: PageServer | None = None
        database: PageDatabase | None = None
        try:
            for n, block in runnable:
                what = f"{page.rel}:{block.line}: {block.lang} block runs"
                expected = None
                if n + 1 < len(page.blocks) and "output" in page.blocks[n + 1].words:
                    expected = page.blocks[n + 1].text
                    what += " and prints its output block"
                text = block.text
                if server is None and (block.lang in ("sh", "bash") or "localhost:8080" in text or "TOKEN" in text):
                    try:
                        server = PageServer(self.bin, scratch)
                    except RuntimeError as e:
                        report.fail(what, str(e))
                        return
                if server is not None:
                    text = text.replace("localhost:8080", f"localhost:{server.port}")
                    text = text.replace("127.0.0.1:8080", f"127.0.0.1:{server.port}")
                if database is None and "DATABASE_URL" in text:
                    try:
                        database = PageDatabase(self.env)
                    except RuntimeError as e:
                        report.fail(what, str(e))
                        return
                env = self.block_env(server, database)
                leftover: Path | None = None  # a file outside the scratch directory
                if block.lang in ("sh", "bash"):
                    cmd, cwd = ["bash", "-euo", "pipefail", "-c", text], scratch
                elif block.lang in ("ts", "typescript", "js", "javascript"):
                    name = f"_docs_{re.sub(r'[^A-Za-z0-9]', '_', page.rel)}_{block.line}.ts"
                    leftover = self.js_project / name
                    leftover.write_text(text, encoding="utf-8")
                    cmd, cwd = [self.bun, name], self.js_project
                elif block.lang in ("python", "py"):
                    file = scratch / f"block_{block.line}.py"
                    file.write_text(text, encoding="utf-8")
                    cmd, cwd = [self.python, str(file)], scratch
                else:
                    report.fail(what, f"no runner for language {block.lang!r}")
                    continue
                code, out, err = run(cmd, cwd, env)
                if leftover is not None:
                    leftover.unlink(missing_ok=True)
                if code != 0:
                    report.fail(what, f"exit {code}\n--- stdout\n{out}\n--- stderr\n{err}")
                elif expected is not None and not output_matches(expected, out):
                    report.fail(what, f"--- expected\n{expected}\n--- printed\n{out}\n--- stderr\n{err}")
                else:
                    report.ok(what)
        finally:
            if server is not None:
                server.stop()
            if database is not None:
                database.drop()
            shutil.rmtree(scratch, ignore_errors=True)

    def run_example(self, topic: Path, report: Report) -> None:
        expected_file = topic / "expected.txt"
        if not expected_file.exists():
            report.fail(f"examples/{topic.name}: has expected.txt")
            return
        expected = expected_file.read_text(encoding="utf-8")
        name = topic.name.split("-", 1)[1]
        target = Path(self.env["CARGO_TARGET_DIR"]) / "debug" / "examples" / name
        scratch = Path(tempfile.mkdtemp(prefix="messagedb-example-"))
        js_file = self.js_project / f"_example_{topic.name.replace('-', '_')}.ts"
        try:
            runs = {
                "Rust": ([str(target)], scratch, topic / "main.rs"),
                "Bun": ([self.bun, js_file.name], self.js_project, topic / "main.ts"),
                "Python": ([self.python, str(topic / "main.py")], scratch, topic / "main.py"),
            }
            for language, (cmd, cwd, source) in runs.items():
                what = f"examples/{topic.name}: {language} prints expected.txt"
                if not source.exists():
                    report.fail(what, f"{source.relative_to(ROOT)} is missing")
                    continue
                if language == "Bun":
                    shutil.copyfile(source, js_file)
                if language == "Rust" and not target.exists():
                    report.fail(what, f"{target} is not built (cargo build -p messagedb-examples --examples)")
                    continue
                code, out, err = run(cmd, cwd, self.block_env(None))
                if code != 0:
                    report.fail(what, f"exit {code}\n--- stdout\n{out}\n--- stderr\n{err}")
                elif out != expected:
                    import difflib

                    diff = difflib.unified_diff(
                        expected.splitlines(), out.splitlines(), "expected.txt", language, lineterm=""
                    )
                    report.fail(what, "\n".join(diff) + f"\n--- stderr\n{err}")
                else:
                    report.ok(what)
        finally:
            js_file.unlink(missing_ok=True)
            shutil.rmtree(scratch, ignore_errors=True)


# ---------------------------------------------------------------- API references

JS_SURFACE = r"""
import * as m from "messagedb";
const out: Record<string, string[]> = {};
const isClass = (v: unknown) =>
  typeof v === "function" && /^class[\s{]/.test(Function.prototype.toString.call(v));
for (const [name, value] of Object.entries(m)) {
  if (name === "default" || name.startsWith("_")) continue;
  const members: string[] = [];
  if (isClass(value)) {
    const cls = value as unknown as { prototype: object };
    for (const k of Object.getOwnPropertyNames(cls)) {
      if (!["length", "name", "prototype"].includes(k) && !k.startsWith("_")) members.push(k);
    }
    for (const k of Object.getOwnPropertyNames(cls.prototype)) {
      if (k !== "constructor" && !k.startsWith("_")) members.push(k);
    }
  }
  out[name] = members;
}
console.log(JSON.stringify(out));
"""

PY_SURFACE = r"""
import inspect, json, messagedb
out = {}
for name in messagedb.__all__:
    if name.startswith("_"):
        continue
    value = getattr(messagedb, name)
    members = []
    if inspect.isclass(value):
        members = sorted(k for k in vars(value) if not k.startswith("_"))
    out[name] = members
print(json.dumps(out))
"""


def documented(page: Page) -> set[str]:
    names = set()
    for level, text in page.headings:
        m = re.match(r"^`([^`]+)`", text)
        if level >= 2 and m:
            name = re.split(r"[\s(<\[:=]", m.group(1).strip(), maxsplit=1)[0]
            names.add(name.removeprefix("await").strip())
    return names


def compare_names(page: Page, required: set[str], allowed: set[str], report: Report, what: str) -> None:
    have = documented(page)
    missing = sorted(required - have)
    unknown = sorted(have - required - allowed)
    detail = ""
    if missing:
        detail += "no heading for: " + ", ".join(missing) + "\n"
    if unknown:
        detail += "headings naming nothing that exists: " + ", ".join(unknown) + "\n"
    report.check(not missing and not unknown, f"{page.rel}: {what}", detail)


def surface(cmd: list[str], cwd: Path, env: dict[str, str]) -> dict[str, list[str]]:
    code, out, err = run(cmd, cwd, env)
    if code != 0:
        raise RuntimeError(f"exit {code}\n{out}\n{err}")
    return json.loads(out)


def check_api(pages: dict[Path, Page], runner: Runner, report: Report) -> None:
    def required_of(exports: dict[str, list[str]]) -> set[str]:
        return set(exports) | {f"{cls}.{m}" for cls, members in exports.items() for m in members}

    js_page = pages.get(ROOT / "docs/reference/javascript.md")
    if js_page:
        probe = runner.js_project / "_docs_surface.ts"
        probe.write_text(JS_SURFACE, encoding="utf-8")
        try:
            exports = surface([runner.bun, probe.name], runner.js_project, runner.block_env(None))
            compare_names(js_page, required_of(exports), set(), report, "documents every export of the npm package")
        except RuntimeError as e:
            report.fail(f"{js_page.rel}: the npm package's exports", str(e))
        finally:
            probe.unlink(missing_ok=True)
    py_page = pages.get(ROOT / "docs/reference/python.md")
    if py_page:
        try:
            exports = surface([runner.python, "-c", PY_SURFACE], ROOT, runner.block_env(None))
            compare_names(py_page, required_of(exports), set(), report, "documents every name in messagedb.__all__")
        except RuntimeError as e:
            report.fail(f"{py_page.rel}: the Python package's names", str(e))
    http_page = pages.get(ROOT / "docs/reference/http.md")
    if http_page:
        methods = set(RPC_METHOD.findall((ROOT / "server/src/rpc/mod.rs").read_text(encoding="utf-8")))
        codes_json = run([runner.python, "-c", "import json, messagedb; print(json.dumps(messagedb.error_codes()))"],
                         ROOT, runner.block_env(None))[1]
        codes = {row[0] if isinstance(row, list) else row["code"] for row in json.loads(codes_json)}
        import_codes = set(IMPORT_CODE.findall((ROOT / "core/src/record.rs").read_text(encoding="utf-8")))
        report.check(len(methods) > 10 and len(codes) > 10, "the server's RPC methods and error codes are found",
                     f"methods {sorted(methods)}, codes {sorted(codes)}")
        compare_names(http_page, methods | codes, import_codes, report,
                      "documents every RPC method and every error code")


# ---------------------------------------------------------------- main


def all_pages() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "examples" / "README.md"]
    files += sorted((ROOT / "docs").rglob("*.md"))
    return [f for f in files if f.exists()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pages", nargs="*", help="pages to check (default: all)")
    parser.add_argument("--example", action="append", default=[], help="run this example topic only")
    args = parser.parse_args()

    needed = ["MESSAGEDB_BIN", "MESSAGEDB_JS_PROJECT", "MESSAGEDB_PYTHON", "CARGO_TARGET_DIR"]
    missing = [k for k in needed if not os.environ.get(k)]
    if missing:
        print(f"check-docs: set {', '.join(missing)} (scripts/test-docs.sh does)", file=sys.stderr)
        return 2
    runner = Runner(dict(os.environ))
    report = Report()

    every = {p: parse(p) for p in all_pages()}
    if args.pages or args.example:
        selected = [(ROOT / p if not Path(p).is_absolute() else Path(p)).resolve() for p in args.pages]
        pages = {p: every.get(p) or parse(p) for p in selected}
        topics = [ROOT / "examples" / t for t in args.example]
    else:
        pages = every
        topics = sorted(p for p in (ROOT / "examples").iterdir() if p.is_dir() and re.match(r"^\d\d-", p.name))
        report.check(len(topics) >= 12, f"examples: {len(topics)} topics found")

    for page in pages.values():
        check_links(page, every, report)
        for block in page.blocks:
            if block.include:
                check_include(page, block, report)
        runner.run_page(page, report)
    check_api(pages, runner, report)
    for topic in topics:
        runner.run_example(topic, report)

    print(f"# pass {report.passed}")
    print(f"# fail {report.failed}")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
