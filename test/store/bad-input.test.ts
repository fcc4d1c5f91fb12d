// Bad-input parity (design.md, Guarantee 4): the input rules live in core, so the package in process
// and the server over HTTP, on SQLite (memory, directory) and on PostgreSQL, refuse the same input
// with the same class, code and message, and write nothing; what they accept is kept exactly.
import { afterAll, describe, expect, test } from "bun:test";
import { InvalidRequestError, MessageStore, serve } from "messagedb";
import { HttpStore } from "./http-client";
import { expectRejects } from "./expect";
import type { NamespaceLike, StoreLike } from "./types";
import { removeTempDirs, tempDir } from "./util";

const pgUrl = process.env.MESSAGEDB_TEST_PG_URL;
if (!pgUrl && process.env.CI === "true") throw new Error("MESSAGEDB_TEST_PG_URL is not set: the PostgreSQL surfaces cannot run");

const NUL_STREAM = "streamName must not contain the character U+0000";
const LONE = (what: string) => `${what} must not contain a lone UTF-16 surrogate escape (\\ud800-\\udfff without its pair)`;
const BAD_ID = "namespace ID must be 1-128 characters of A-Z, a-z, 0-9, '_', '.' and '-'";

/** Each refused input: what it does, and the message every surface answers with. */
const refused: Array<[string, (s: StoreLike, ns: NamespaceLike) => Promise<unknown>, string]> = [
  ["NUL in a stream name", (_, ns) => ns.write("a\u0000-1", { type: "T", data: {} }), NUL_STREAM],
  ["NUL in a type", (_, ns) => ns.write("a-1", { type: "T\u0000", data: {} }), "message.type must not contain the character U+0000"],
  ["NUL in data", (_, ns) => ns.write("a-1", { type: "T", data: { a: "\u0000" } }), "message.data must not contain the character U+0000"],
  ["a lone surrogate in data", (_, ns) => ns.write("a-1", { type: "T", data: { a: "\ud800" } }), LONE("message.data")],
  ["a lone surrogate in metadata", (_, ns) => ns.write("a-1", { type: "T", data: {}, metadata: { x: "\udc00" } }), LONE("message.metadata")],
  [
    "a correlationStreamName that is not a string",
    (_, ns) => ns.write("a-1", { type: "T", data: {}, metadata: { correlationStreamName: 5 } }),
    "metadata.correlationStreamName must be a string",
  ],
  ["a stream name over 1024 bytes (UTF-8)", (_, ns) => ns.write(`a-${"é".repeat(512)}`, { type: "T", data: {} }), "streamName must be at most 1024 bytes"],
  ["a type over 1024 bytes", (_, ns) => ns.write("a-1", { type: "t".repeat(1025), data: {} }), "message.type must be at most 1024 bytes"],
  ["NUL in a batch's stream name", (_, ns) => ns.writeBatch("a\u0000-1", [{ type: "T", data: {} }]), NUL_STREAM],
  ["NUL in a stream read", (_, ns) => ns.getStream("a\u0000-1"), NUL_STREAM],
  ["NUL in a last-message read", (_, ns) => ns.getLast("a\u0000-1"), NUL_STREAM],
  ["NUL in a version read", (_, ns) => ns.streamVersion("a\u0000-1"), NUL_STREAM],
  ["NUL in a category", (_, ns) => ns.getCategory("a\u0000"), "categoryName must not contain the character U+0000"],
  ["NUL in a correlation", (_, ns) => ns.getCategory("a", { correlation: "c\u0000" }), "options.correlation must not contain the character U+0000"],
  ["NUL in a listing prefix", (_, ns) => ns.listStreams({ prefix: "a\u0000" }), "prefix must not contain the character U+0000"],
  ["NUL in a listing cursor", (_, ns) => ns.listStreams({ cursor: "a\u0000" }), "cursor must not contain the character U+0000"],
  ["NUL in a namespace id", (s) => s.createNamespace("a\u0000"), BAD_ID],
  ["NUL in a namespace's info", (s) => s.namespaceInfo("a\u0000"), BAD_ID],
  ["NUL in a description", (s) => s.createNamespace("d", { description: "x\u0000" }), "options.description must not contain the character U+0000"],
];

interface Surface {
  store: StoreLike;
  close(): Promise<void>;
}

const surfaces: Array<[string, () => Promise<Surface>]> = [
  ["package :memory:", async () => { const s = await MessageStore.open(":memory:"); return { store: s, close: () => s.close() }; }],
  ["package directory", async () => { const s = await MessageStore.open(tempDir()); return { store: s, close: () => s.close() }; }],
  ["http (sqlite)", async () => {
    const server = await serve();
    return { store: new HttpStore(server.url, server.token), close: () => server.close() };
  }],
];
if (pgUrl) {
  // One database, a namespace per surface: the default namespace is shared, so each surface checks
  // its own namespace for "nothing written".
  surfaces.push(["package postgres", async () => { const s = await MessageStore.open(pgUrl); return { store: s, close: () => s.close() }; }]);
  surfaces.push(["http (postgres)", async () => {
    const server = await serve({ dbUrl: pgUrl, testMode: false });
    return { store: new HttpStore(server.url, server.token), close: () => server.close() };
  }]);
}

afterAll(removeTempDirs);

for (const [surface, open] of surfaces) {
  describe(`bad input [${surface}]`, () => {
    test("every rule answers InvalidRequestError with the same message, and nothing is written", async () => {
      const { store, close } = await open();
      try {
        const id = `parity_${surface.replace(/[^a-z]/g, "")}_${Date.now()}`;
        await store.createNamespace(id);
        const ns = store.namespace(id);
        for (const [what, run, message] of refused) {
          try {
            await expectRejects(run(store, ns), InvalidRequestError, "INVALID_REQUEST", message);
          } catch (e) {
            throw new Error(`${what}: ${(e as Error).message}`);
          }
        }
        expect(await ns.getCategory("")).toEqual([]);
        // At the limit it is kept, byte for byte.
        const longest = `a-${"é".repeat(511)}`;
        expect(new TextEncoder().encode(longest).length).toBe(1024);
        await ns.write(longest, { type: "t".repeat(1024), data: { smile: "\ud83d\ude00" }, metadata: { correlationStreamName: "corr-1" } });
        const [m] = await ns.getStream(longest);
        expect([m.streamName, m.type.length, m.data]).toEqual([longest, 1024, { smile: "😀" }]);
        expect((await ns.getCategory("a", { correlation: "corr" })).length).toBe(1);
        await store.deleteNamespace(id);
      } finally {
        await close();
      }
    });
  });
}
