// The store scenarios, written once: `storeScenarios(surface, factory)` registers them for a
// surface (the package in process on ":memory:", on a temporary directory, or the server over HTTP
// through ./http-client.ts). Same assertions everywhere, so the surfaces cannot drift.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import {
  DuplicateMessageIdError,
  InvalidRequestError,
  NamespaceExistsError,
  NamespaceNotFoundError,
  VersionConflictError,
} from "messagedb";
import type { Factory, Fixture, Message, NamespaceLike, StoreLike } from "./types";
import { brief, expectRecent, expectRejects, gpos, streams, writeEach } from "./expect";
import { liveScenarios } from "./scenarios-live";
import { makeToken, TOKEN_RE, UUID7_RE } from "./util";

export function storeScenarios(surface: string, factory: Factory) {
  describe(`store scenarios [${surface}]`, () => {
    let fx: Fixture;
    let store: StoreLike;
    let ns: NamespaceLike;

    beforeEach(async () => {
      fx = await factory();
      store = fx.store;
      ns = store.namespace("default");
    });
    afterEach(async () => {
      await fx.dispose();
    });

    // ------------------------------------------------------------------------------------------
    describe("write", () => {
      test("returns the stream and global positions and stores the message as given", async () => {
        const w1 = await ns.write("account-1", { type: "Opened", data: { owner: "ada", tags: ["a", "b"] }, metadata: { schemaVersion: 1 } });
        const w2 = await ns.write("account-1", { type: "Deposited", data: { amount: 10 } });
        const w3 = await ns.write("account-2", { type: "Opened", data: {} }, { id: undefined });
        expect([w1, w2, w3]).toEqual([
          { position: 0, globalPosition: 1 },
          { position: 1, globalPosition: 2 },
          { position: 0, globalPosition: 3 },
        ]);
        const got = await ns.getStream("account-1");
        expect(got.length).toBe(2);
        const [m0, m1] = got;
        expect(Object.keys(m0).sort()).toEqual(["data", "globalPosition", "id", "metadata", "position", "streamName", "time", "type"]);
        expect(m0.id).toMatch(UUID7_RE);
        expect(m1.id).toMatch(UUID7_RE);
        expect(m0.id).not.toBe(m1.id);
        expect({ ...m0, id: "", time: null }).toEqual({
          id: "",
          streamName: "account-1",
          type: "Opened",
          position: 0,
          globalPosition: 1,
          data: { owner: "ada", tags: ["a", "b"] },
          metadata: { schemaVersion: 1 },
          time: null,
        });
        expect(m1.metadata).toBeNull();
        expect(m1.data).toEqual({ amount: 10 });
        expectRecent(m0.time);
        expect(m1.time.getTime()).toBeGreaterThanOrEqual(m0.time.getTime());
      });

      test("keeps a given id, and JSON values round-trip (nesting, unicode, 2^53-1); U+0000 is refused", async () => {
        const id = crypto.randomUUID();
        const data = { big: 9007199254740991, neg: -1.5, s: "héllo ✓ \u0001 \"q\" 😀", nested: { a: [1, { b: null }], t: true } };
        await ns.write("account-1", { type: "Opened", data, metadata: null }, { id });
        const [m] = await ns.getStream("account-1");
        expect(m.id).toBe(id);
        expect(m.data).toEqual(data);
        expect(m.metadata).toBeNull();
        // U+0000 cannot be stored by every backend, so it is refused everywhere.
        await expectRejects(
          ns.write("account-1", { type: "A", data: { s: "a\u0000b" } }),
          InvalidRequestError,
          "INVALID_REQUEST",
          "message.data must not contain the character U+0000",
        );
        expect(await ns.streamVersion("account-1")).toBe(0);
      });
    });

    // ------------------------------------------------------------------------------------------
    describe("batch", () => {
      test("writes contiguous positions and returns first and last", async () => {
        const id = crypto.randomUUID();
        const b1 = await ns.writeBatch("order-1", [
          { type: "A", data: { n: 1 } },
          { type: "B", data: { n: 2 }, id },
          { type: "C", data: { n: 3 }, metadata: { m: true } },
        ]);
        expect(b1).toEqual({ position: 0, globalPosition: 1, lastPosition: 2, lastGlobalPosition: 3 });
        await ns.write("order-2", { type: "X", data: {} });
        const b2 = await ns.writeBatch("order-1", [{ type: "D", data: {} }, { type: "E", data: {} }], { expectedVersion: 2 });
        expect(b2).toEqual({ position: 3, globalPosition: 5, lastPosition: 4, lastGlobalPosition: 6 });
        const got = await ns.getStream("order-1");
        expect(brief(got)).toEqual([
          ["order-1", 0, 1, "A"],
          ["order-1", 1, 2, "B"],
          ["order-1", 2, 3, "C"],
          ["order-1", 3, 5, "D"],
          ["order-1", 4, 6, "E"],
        ]);
        expect(got[1].id).toBe(id);
        expect(got[2].metadata).toEqual({ m: true });
      });

      test("is atomic: a conflict or an invalid message writes nothing", async () => {
        await ns.writeBatch("order-1", [{ type: "A", data: {} }, { type: "B", data: {} }]);
        await expectRejects(
          ns.writeBatch("order-1", [{ type: "C", data: {} }, { type: "D", data: {} }], { expectedVersion: 0 }),
          VersionConflictError,
          "STREAM_VERSION_CONFLICT",
          "Expected version 0, stream is at version 1",
        );
        await expectRejects(
          ns.writeBatch("order-1", [{ type: "C", data: {} }, { type: "", data: {} }]),
          InvalidRequestError,
          "INVALID_REQUEST",
          "message.type must be a non-empty string",
        );
        await expectRejects(ns.writeBatch("order-1", []), InvalidRequestError, "INVALID_REQUEST", "messages must be a non-empty array");
        expect(await ns.streamVersion("order-1")).toBe(1);
        expect(gpos(await ns.getCategory(""))).toEqual([1, 2]);
        // Nothing consumed a global position.
        expect(await ns.write("order-1", { type: "C", data: {} })).toEqual({ position: 2, globalPosition: 3 });
      });
    });

    // ------------------------------------------------------------------------------------------
    describe("reads", () => {
      async function fixture() {
        await ns.writeBatch("account-1", [0, 1, 2, 3, 4].map((i) => ({ type: "Event", data: { i } }))); // g 1..5
        await ns.write("account-2", { type: "Other", data: {} }); // g 6
        await ns.write("account-1", { type: "Event", data: { i: 5 } }); // p 5, g 7
        await ns.write("user-1", { type: "U", data: {} }); // g 8
      }
      const positions = (ms: Message[]) => ms.map((m) => m.position);

      test("getStream: position inclusive, negative = from the start, past the end = []", async () => {
        await fixture();
        expect(positions(await ns.getStream("account-1"))).toEqual([0, 1, 2, 3, 4, 5]);
        expect(gpos(await ns.getStream("account-1"))).toEqual([1, 2, 3, 4, 5, 7]);
        expect(positions(await ns.getStream("account-1", { position: 2 }))).toEqual([2, 3, 4, 5]);
        expect(positions(await ns.getStream("account-1", { position: 2n }))).toEqual([2, 3, 4, 5]);
        expect(positions(await ns.getStream("account-1", { position: -5 }))).toEqual([0, 1, 2, 3, 4, 5]);
        expect(await ns.getStream("account-1", { position: 6 })).toEqual([]);
        expect(await ns.getStream("account-9")).toEqual([]);
        expect((await ns.getStream("account-1", { position: 3 }))[0].data).toEqual({ i: 3 });
      });

      test("getStream: globalPosition (>=) replaces position, still in stream order", async () => {
        await fixture();
        expect(positions(await ns.getStream("account-1", { globalPosition: 5 }))).toEqual([4, 5]);
        expect(positions(await ns.getStream("account-1", { globalPosition: 6 }))).toEqual([5]);
        expect(positions(await ns.getStream("account-1", { globalPosition: 5, position: 0 }))).toEqual([4, 5]);
        expect(await ns.getStream("account-1", { globalPosition: 8 })).toEqual([]);
      });

      test("getStream: batchSize limits; -1, 0 and negatives are unlimited; > 10000 is refused", async () => {
        await fixture();
        expect(positions(await ns.getStream("account-1", { batchSize: 2 }))).toEqual([0, 1]);
        expect(positions(await ns.getStream("account-1", { position: 1, batchSize: 2 }))).toEqual([1, 2]);
        for (const b of [-1, 0, -7]) expect((await ns.getStream("account-1", { batchSize: b })).length).toBe(6);
        expect((await ns.getStream("account-1", { batchSize: 10000 })).length).toBe(6);
        await expectRejects(
          ns.getStream("account-1", { batchSize: 10001 }),
          InvalidRequestError,
          "INVALID_REQUEST",
          "options.batchSize must be <= 10000 or -1 for unlimited",
        );
        await expectRejects(
          ns.getCategory("account", { batchSize: 10001 }),
          InvalidRequestError,
          "INVALID_REQUEST",
          "options.batchSize must be <= 10000 or -1 for unlimited",
        );
      });

      test("the default batch size is 1000 (stream and category)", async () => {
        const many = Array.from({ length: 1001 }, (_, i) => ({ type: "E", data: { i } }));
        expect(await ns.writeBatch("big-1", many)).toEqual({ position: 0, globalPosition: 1, lastPosition: 1000, lastGlobalPosition: 1001 });
        const s = await ns.getStream("big-1");
        expect([s.length, s[0].position, s[999].position]).toEqual([1000, 0, 999]);
        const c = await ns.getCategory("big");
        expect([c.length, c[0].globalPosition, c[999].globalPosition]).toEqual([1000, 1, 1000]);
        expect((await ns.getStream("big-1", { batchSize: -1 })).length).toBe(1001);
      });

      test("getCategory: position is a global position (default 1), batchSize, exact category match, '' = all", async () => {
        await fixture();
        expect(brief(await ns.getCategory("account"))).toEqual([
          ["account-1", 0, 1, "Event"],
          ["account-1", 1, 2, "Event"],
          ["account-1", 2, 3, "Event"],
          ["account-1", 3, 4, "Event"],
          ["account-1", 4, 5, "Event"],
          ["account-2", 0, 6, "Other"],
          ["account-1", 5, 7, "Event"],
        ]);
        expect(gpos(await ns.getCategory("account", { position: 6 }))).toEqual([6, 7]);
        expect(gpos(await ns.getCategory("account", { position: 3, batchSize: 2 }))).toEqual([3, 4]);
        expect(gpos(await ns.getCategory("account", { position: 3n, batchSize: 2n }))).toEqual([3, 4]);
        expect(gpos(await ns.getCategory("user"))).toEqual([8]);
        expect(await ns.getCategory("account-1")).toEqual([]);
        expect(await ns.getCategory("acc")).toEqual([]);
        expect(await ns.getCategory("nothing")).toEqual([]);
        expect(gpos(await ns.getCategory(""))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
        const [m] = await ns.getCategory("account", { position: 6, batchSize: 1 });
        expect(m.streamName).toBe("account-2");
        expect(m.data).toEqual({});
        expect(m.id).toMatch(UUID7_RE);
      });

      test("listStreams (byte order, prefix, limit, cursor) and listCategories (counts)", async () => {
        await fixture();
        const all = await ns.listStreams();
        expect(all.map((s) => [s.stream, s.version])).toEqual([
          ["account-1", 5],
          ["account-2", 0],
          ["user-1", 0],
        ]);
        for (const s of all) expectRecent(s.lastActivity);
        expect((await ns.listStreams({ prefix: "account" })).map((s) => s.stream)).toEqual(["account-1", "account-2"]);
        expect((await ns.listStreams({ limit: 1 })).map((s) => s.stream)).toEqual(["account-1"]);
        expect((await ns.listStreams({ cursor: "account-1" })).map((s) => s.stream)).toEqual(["account-2", "user-1"]);
        await expectRejects(ns.listStreams({ limit: 0 }), InvalidRequestError, "INVALID_REQUEST", "limit must be between 1 and 1000");
        expect(await ns.listCategories()).toEqual([
          { category: "account", streamCount: 2, messageCount: 7 },
          { category: "user", streamCount: 1, messageCount: 1 },
        ]);
      });
    });

    // ------------------------------------------------------------------------------------------
    describe("last", () => {
      test("getLast: the last message, or the last of a type; null when none", async () => {
        expect(await ns.getLast("account-1")).toBeNull();
        await ns.write("account-1", { type: "A", data: { n: 0 } });
        await ns.write("account-1", { type: "B", data: { n: 1 } });
        await ns.write("account-1", { type: "A", data: { n: 2 }, metadata: { k: "v" } });
        await ns.write("account-1", { type: "B", data: { n: 3 } });
        await ns.write("account-2", { type: "A", data: { n: 9 } });
        const last = (await ns.getLast("account-1"))!;
        expect([last.streamName, last.position, last.globalPosition, last.type, last.data]).toEqual(["account-1", 3, 4, "B", { n: 3 }]);
        const lastA = (await ns.getLast("account-1", { type: "A" }))!;
        expect([lastA.position, lastA.globalPosition, lastA.data, lastA.metadata]).toEqual([2, 3, { n: 2 }, { k: "v" }]);
        expect(lastA.id).toMatch(UUID7_RE);
        expectRecent(lastA.time);
        expect(await ns.getLast("account-1", { type: "C" })).toBeNull();
        expect((await ns.getLast("account-1", { type: "" }))!.position).toBe(3);
        expect(await ns.getLast("account-3")).toBeNull();
      });
    });

    // ------------------------------------------------------------------------------------------
    describe("versions and conflicts", () => {
      test("streamVersion and expectedVersion; a conflict carries expected/actual and writes nothing", async () => {
        expect(await ns.streamVersion("account-1")).toBeNull();
        expect(await ns.write("account-1", { type: "A", data: {} }, { expectedVersion: -1 })).toEqual({ position: 0, globalPosition: 1 });
        expect(await ns.streamVersion("account-1")).toBe(0);
        expect(await ns.write("account-1", { type: "B", data: {} }, { expectedVersion: 0 })).toEqual({ position: 1, globalPosition: 2 });
        expect(await ns.streamVersion("account-1")).toBe(1);

        const e1 = await expectRejects(
          ns.write("account-1", { type: "C", data: {} }, { expectedVersion: 0 }),
          VersionConflictError,
          "STREAM_VERSION_CONFLICT",
          "Expected version 0, stream is at version 1",
        );
        expect([e1.expected, e1.actual]).toEqual([0, 1]);
        const e2 = await expectRejects(
          ns.write("account-1", { type: "C", data: {} }, { expectedVersion: -1 }),
          VersionConflictError,
          "STREAM_VERSION_CONFLICT",
          "Expected version -1, stream is at version 1",
        );
        expect([e2.expected, e2.actual]).toEqual([-1, 1]);
        const e3 = await expectRejects(
          ns.write("account-2", { type: "C", data: {} }, { expectedVersion: 0 }),
          VersionConflictError,
          "STREAM_VERSION_CONFLICT",
          "Expected version 0, stream is at version -1",
        );
        expect([e3.expected, e3.actual]).toEqual([0, -1]);
        const e4 = await expectRejects(
          ns.write("account-1", { type: "C", data: {} }, { expectedVersion: 5 }),
          VersionConflictError,
          "STREAM_VERSION_CONFLICT",
          "Expected version 5, stream is at version 1",
        );
        expect([e4.expected, e4.actual]).toEqual([5, 1]);

        expect(await ns.streamVersion("account-1")).toBe(1);
        expect(await ns.streamVersion("account-2")).toBeNull();
        expect((await ns.getStream("account-1")).map((m) => m.type)).toEqual(["A", "B"]);
        // A bigint expected version works; no global position was consumed by the conflicts.
        expect(await ns.write("account-1", { type: "C", data: {} }, { expectedVersion: 1n })).toEqual({ position: 2, globalPosition: 3 });
      });
    });

    // ------------------------------------------------------------------------------------------
    describe("duplicate id", () => {
      test("a taken id is refused anywhere in the namespace, and nothing is written", async () => {
        const id = crypto.randomUUID();
        await ns.write("account-1", { type: "A", data: {} }, { id });
        await expectRejects(
          ns.write("account-2", { type: "A", data: {} }, { id }),
          DuplicateMessageIdError,
          "DUPLICATE_MESSAGE_ID",
          `Message ID '${id}' already exists`,
        );
        await expectRejects(
          ns.writeBatch("account-3", [{ type: "A", data: {} }, { type: "B", data: {}, id }]),
          DuplicateMessageIdError,
          "DUPLICATE_MESSAGE_ID",
          `Message ID '${id}' already exists`,
        );
        const twice = crypto.randomUUID();
        await expectRejects(
          ns.writeBatch("account-4", [{ type: "A", data: {}, id: twice }, { type: "B", data: {}, id: twice }]),
          DuplicateMessageIdError,
          "DUPLICATE_MESSAGE_ID",
          `Message ID '${twice}' already exists`,
        );
        expect(await ns.streamVersion("account-2")).toBeNull();
        expect(await ns.streamVersion("account-3")).toBeNull();
        expect(await ns.streamVersion("account-4")).toBeNull();
        expect(await ns.write("account-2", { type: "A", data: {} })).toEqual({ position: 0, globalPosition: 2 });
        // The same id is free in another namespace.
        await store.createNamespace("other");
        expect(await store.namespace("other").write("account-1", { type: "A", data: {} }, { id })).toEqual({ position: 0, globalPosition: 1 });
      });

      test("an id that is not a UUID is refused", async () => {
        await expectRejects(
          ns.write("account-1", { type: "A", data: {} }, { id: "not-a-uuid" }),
          InvalidRequestError,
          "INVALID_REQUEST",
          "options.id must be a UUID",
        );
        expect(await ns.streamVersion("account-1")).toBeNull();
      });

      test("an id that is not a UUID in a batch message is refused", async () => {
        // The id travels in the message (`message.id`), not in options.
        await expectRejects(
          ns.writeBatch("account-1", [{ type: "A", data: {}, id: "not-a-uuid" }]),
          InvalidRequestError,
          "INVALID_REQUEST",
          "message.id must be a UUID",
        );
        expect(await ns.streamVersion("account-1")).toBeNull();
      });
    });

    // ------------------------------------------------------------------------------------------
    describe("consumer groups", () => {
      const names = ["account-123", "account-456", "account-789", "account-1", "account-123+part2", "user-abc", "user-x", "order-7f3c2a", "order-1"];
      const member = async (category: string, m: number, size: number) =>
        streams(await ns.getCategory(category, { consumerGroup: { member: m, size } }));

      test("the MD5 cardinal-id rule: known vectors", async () => {
        await writeEach(ns, names);
        // account-123 → member 1 of 2 and 3 of 4; account-456 → 3 of 4 and 1 of 3.
        expect(await member("account", 1, 2)).toEqual(["account-123", "account-456", "account-123+part2"]);
        expect(await member("account", 0, 2)).toEqual(["account-789", "account-1"]);
        expect(await member("account", 3, 4)).toEqual(["account-123", "account-456", "account-123+part2"]);
        expect(await member("account", 1, 3)).toEqual(["account-123", "account-456", "account-789", "account-123+part2"]);
        // user-abc → member 0 of 4; order-7f3c2a → member 4 of 5.
        expect(await member("user", 0, 4)).toContain("user-abc");
        expect(await member("user", 1, 4)).not.toContain("user-abc");
        expect(await member("order", 4, 5)).toEqual(["order-7f3c2a"]);
        expect(await member("order", 1, 5)).not.toContain("order-7f3c2a");
        // bigint member/size.
        expect(streams(await ns.getCategory("account", { consumerGroup: { member: 3n, size: 4n } }))).toEqual([
          "account-123",
          "account-456",
          "account-123+part2",
        ]);
      });

      test("the members of a group partition the category; the filter applies before the batch limit", async () => {
        await writeEach(ns, names);
        await writeEach(ns, names);
        const all = gpos(await ns.getCategory("account"));
        const parts = [];
        for (let m = 0; m < 4; m++) parts.push(...gpos(await ns.getCategory("account", { consumerGroup: { member: m, size: 4 } })));
        expect(parts.sort((a, b) => a - b)).toEqual(all);
        // account-1 is member 2 of 4; its first message is global position 4, after three non-members.
        const [first] = await ns.getCategory("account", { consumerGroup: { member: 2, size: 4 }, batchSize: 1 });
        expect([first.streamName, first.globalPosition]).toEqual(["account-1", 4]);
      });

      test("invalid groups are refused with the exact messages", async () => {
        await expectRejects(
          ns.getCategory("account", { consumerGroup: { member: 2, size: 2 } }),
          InvalidRequestError,
          "INVALID_REQUEST",
          "options.consumerGroup.member must be < size",
        );
        await expectRejects(
          ns.getCategory("account", { consumerGroup: { member: 0, size: 0 } }),
          InvalidRequestError,
          "INVALID_REQUEST",
          "options.consumerGroup.size must be positive",
        );
        await expectRejects(
          ns.getCategory("account", { consumerGroup: { member: -1, size: 2 } }),
          InvalidRequestError,
          "INVALID_REQUEST",
          "options.consumerGroup.member must be non-negative",
        );
      });
    });

    // ------------------------------------------------------------------------------------------
    describe("correlation", () => {
      test("keeps messages whose metadata.correlationStreamName has the category (exact, case-sensitive)", async () => {
        await ns.write("account-1", { type: "A", data: {}, metadata: { correlationStreamName: "order-1" } });
        await ns.write("account-2", { type: "A", data: {}, metadata: { correlationStreamName: "invoice-9" } });
        await ns.write("account-3", { type: "A", data: {} });
        await ns.write("account-4", { type: "A", data: {}, metadata: { correlationStreamName: "order" } });
        await ns.write("account-5", { type: "A", data: {}, metadata: { correlationStreamName: "Order-2" } });
        await ns.write("account-123", { type: "A", data: {}, metadata: { correlationStreamName: "order-2+x", other: 1 } });
        await ns.write("user-1", { type: "A", data: {}, metadata: { correlationStreamName: "order-3" } });
        expect(streams(await ns.getCategory("account", { correlation: "order" }))).toEqual(["account-1", "account-4", "account-123"]);
        expect(streams(await ns.getCategory("account", { correlation: "invoice" }))).toEqual(["account-2"]);
        expect(streams(await ns.getCategory("account", { correlation: "Order" }))).toEqual(["account-5"]);
        expect(await ns.getCategory("account", { correlation: "ord" })).toEqual([]);
        expect((await ns.getCategory("account", { correlation: "" })).length).toBe(6);
        expect(streams(await ns.getCategory("", { correlation: "order" }))).toEqual(["account-1", "account-4", "account-123", "user-1"]);
        // With a consumer group (account-1 is member 2 of 4; account-4 and account-123 member 3).
        expect(streams(await ns.getCategory("account", { correlation: "order", consumerGroup: { member: 2, size: 4 } }))).toEqual([
          "account-1",
        ]);
        expect(streams(await ns.getCategory("account", { correlation: "order", consumerGroup: { member: 3, size: 4 } }))).toEqual([
          "account-4",
          "account-123",
        ]);
        const [m] = await ns.getCategory("account", { correlation: "order", position: 6 });
        expect(m.metadata).toEqual({ correlationStreamName: "order-2+x", other: 1 });
      });
    });

    // ------------------------------------------------------------------------------------------
    describe("namespaces", () => {
      test("create, list (newest first, real counts), info (real counts), delete", async () => {
        const before = await store.listNamespaces();
        expect(before.map((n) => n.namespace)).toEqual(["default"]);

        const a = await store.createNamespace("tenant.a_1", { description: "Tenant A", metadata: { plan: "pro" } });
        expect(a.namespace).toBe("tenant.a_1");
        expect(a.token).toMatch(TOKEN_RE);
        expect(Buffer.from(TOKEN_RE.exec(a.token)![1], "base64url").toString()).toBe("tenant.a_1");
        expectRecent(a.createdAt);
        const given = makeToken("tenant-b");
        const b = await store.createNamespace("tenant-b", { token: given });
        expect(b.token).toBe(given);

        const ta = store.namespace("tenant.a_1");
        expect(await ta.write("account-1", { type: "A", data: {} })).toEqual({ position: 0, globalPosition: 1 });
        expect(await ta.write("account-1", { type: "B", data: {} })).toEqual({ position: 1, globalPosition: 2 });
        expect(await ta.write("user-1", { type: "C", data: {} })).toEqual({ position: 0, globalPosition: 3 });
        expect(await ns.write("account-1", { type: "D", data: {} })).toEqual({ position: 0, globalPosition: 1 });

        // Isolation: each namespace sees only its own messages.
        expect((await ns.getStream("account-1")).map((m) => m.type)).toEqual(["D"]);
        expect((await ta.getStream("account-1")).map((m) => m.type)).toEqual(["A", "B"]);
        expect(await store.namespace("tenant-b").getCategory("")).toEqual([]);

        const info = await store.namespaceInfo("tenant.a_1");
        expect({ ...info, createdAt: null, lastActivity: null }).toMatchObject({
          namespace: "tenant.a_1",
          description: "Tenant A",
          messageCount: 3,
          streamCount: 2,
          createdAt: null,
          lastActivity: null,
        });
        expect(info.createdAt.getTime()).toBe(a.createdAt.getTime());
        expectRecent(info.lastActivity);
        const empty = await store.namespaceInfo("tenant-b");
        expect([empty.messageCount, empty.streamCount, empty.lastActivity, empty.description]).toEqual([0, 0, null, ""]);

        const list = await store.listNamespaces();
        expect(list.map((n) => [n.namespace, n.messageCount])).toEqual([
          ["tenant-b", 0],
          ["tenant.a_1", 3],
          ["default", 1],
        ]);
        expect(list[1].description).toBe("Tenant A");
        for (const n of list) expectRecent(n.createdAt);

        const d = await store.deleteNamespace("tenant.a_1");
        expect([d.namespace, d.messagesDeleted]).toEqual(["tenant.a_1", 3]);
        expectRecent(d.deletedAt);
        await expectRejects(store.namespaceInfo("tenant.a_1"), NamespaceNotFoundError, "NAMESPACE_NOT_FOUND", "Namespace 'tenant.a_1' not found");
        await expectRejects(store.deleteNamespace("tenant.a_1"), NamespaceNotFoundError, "NAMESPACE_NOT_FOUND", "Namespace 'tenant.a_1' not found");
        expect((await store.listNamespaces()).map((n) => n.namespace)).toEqual(["tenant-b", "default"]);
        expect((await ns.getStream("account-1")).length).toBe(1);
      });

      test("invalid and duplicate namespaces are refused", async () => {
        await store.createNamespace("tenant-a");
        await expectRejects(store.createNamespace("tenant-a"), NamespaceExistsError, "NAMESPACE_EXISTS", "Namespace 'tenant-a' already exists");
        await expectRejects(store.createNamespace("default"), NamespaceExistsError, "NAMESPACE_EXISTS", "Namespace 'default' already exists");
        await expectRejects(store.createNamespace(""), InvalidRequestError, "INVALID_REQUEST", "namespace ID must be a non-empty string");
        await expectRejects(
          store.createNamespace("tenant-c", { token: makeToken("tenant-d") }),
          InvalidRequestError,
          "INVALID_REQUEST",
          "Token is for namespace 'tenant-d', not 'tenant-c'",
        );
        await expectRejects(store.namespaceInfo("nope"), NamespaceNotFoundError, "NAMESPACE_NOT_FOUND", "Namespace 'nope' not found");
        expect((await store.listNamespaces()).map((n) => n.namespace)).toEqual(["tenant-a", "default"]);
      });
    });


    liveScenarios({
      get store() {
        return store;
      },
      get ns() {
        return ns;
      },
    });
  });
}
