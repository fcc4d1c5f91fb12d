// wire-protocol.md §1: SIGTERM/SIGINT stop accepting at once, end SSE responses, exit within 100 ms;
// a new server can start on the same port immediately after.
import { describe, expect, test } from "bun:test";
import { call, cleanupAfterAll, httpRequest, SseReader, startServer, within, writeN } from "./harness";

cleanupAfterAll();

// The spec says 100 ms; the bound here leaves room for a loaded CI machine.
const EXIT_BOUND_MS = 500;

describe("graceful shutdown", () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    test(`${signal} ends open SSE responses, exits within ${EXIT_BOUND_MS} ms, and the port is free at once`, async () => {
      const s = await startServer();
      await writeN(s.url, s.token, "shut-1", 2);
      const subs = [
        await SseReader.open(s.url, { stream: "shut-1" }, s.token),
        await SseReader.open(s.url, { all: true }, s.token),
        await SseReader.open(s.url, { category: "shut" }, s.token),
      ];
      for (const sub of subs) {
        expect((await sub.next()).comment).toBe("ready");
        await sub.pokes(2);
      }
      const { ms, code, killedBy } = await s.stop(signal);
      expect(ms).toBeLessThanOrEqual(EXIT_BOUND_MS);
      // Handled, not killed by the signal's default action.
      expect({ code, killedBy }).toEqual({ code: 0, killedBy: null });
      // Every SSE response ended (cleanly or by reset) rather than hanging.
      await within(Promise.all(subs.map((x) => x.endedPromise)), 1000, "SSE responses to end");
      for (const sub of subs) expect(sub.ended).toBe(true);

      // Stopped accepting.
      await expect(fetch(`${s.url}/health`)).rejects.toThrow();

      // A new server on the same port, immediately.
      const again = await startServer({ port: s.port });
      expect(again.port).toBe(s.port);
      expect((await httpRequest(`${again.url}/health`)).body).toEqual({ status: "ok" });
      expect(await call(again.url, again.token, "sys.version")).toBe("0.7.0");
      const t = await again.stop(signal);
      expect(t.ms).toBeLessThanOrEqual(EXIT_BOUND_MS);
    });
  }

  test("a SIGTERM sent right after the 'listening on' line is handled too (exit status 0, not killed)", async () => {
    // Clients kill a server as soon as it is up: the handler must be in place before that line.
    for (let i = 0; i < 6; i++) {
      const s = await startServer();
      const { code, killedBy, ms } = await s.stop("SIGTERM");
      expect(ms).toBeLessThanOrEqual(EXIT_BOUND_MS);
      expect({ attempt: i, code, killedBy }).toEqual({ attempt: i, code: 0, killedBy: null });
    }
  });
});
