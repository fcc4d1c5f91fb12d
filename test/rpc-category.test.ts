// wire-protocol.md §3: category.get — category matching, global positions, correlation, consumer groups.
import { beforeAll, describe, expect, test } from "bun:test";
import { call, cleanupAfterAll, expectError, groupMember, newNamespace, rpc, startServer, TIME_RE, type Server } from "./harness";

cleanupAfterAll();

let server: Server;
let token: string;
const get = (category: unknown, options?: unknown) =>
  options === undefined ? call(server.url, token, "category.get", category) : call(server.url, token, "category.get", category, options);
const getRaw = (...args: unknown[]) => rpc(server.url, token, "category.get", ...args);
const gpos = (msgs: any[][]) => msgs.map((m) => m[4]);

// [stream, type, metadata] written in this order: global positions 1..12.
const WRITES: Array<[string, string, Record<string, unknown> | null]> = [
  ["account-123", "Opened", null], // 1
  ["account-456", "Opened", null], // 2
  ["user-abc", "Registered", null], // 3
  ["account-123", "Deposited", null], // 4
  ["order-1", "Placed", { correlationStreamName: "account-123" }], // 5
  ["accountX-1", "Opened", null], // 6
  ["account-123+retry", "Retried", null], // 7
  ["account", "Configured", null], // 8
  ["order-2", "Placed", { correlationStreamName: "user-abc" }], // 9
  ["account-456", "Deposited", null], // 10
  ["order-3", "Placed", { correlationStreamName: "Account-1" }], // 11
  ["order-4", "Placed", { correlationStreamName: "account" }], // 12
];

beforeAll(async () => {
  server = await startServer();
  token = (await newNamespace(server, "cat")).token;
  for (const [i, [stream, type, metadata]] of WRITES.entries()) {
    const r = await call(server.url, token, "stream.write", stream, metadata ? { type, data: { i }, metadata } : { type, data: { i } });
    expect(r.globalPosition).toBe(i + 1);
  }
});

describe("category.get", () => {
  test("returns the category's messages in global order as 8-element arrays", async () => {
    const msgs = await get("account");
    expect(gpos(msgs)).toEqual([1, 2, 4, 7, 8, 10]);
    for (const m of msgs) {
      expect(m).toHaveLength(8);
      expect(m[7]).toMatch(TIME_RE);
    }
    const first = msgs[0];
    expect(first.slice(1, 7)).toEqual(["account-123", "Opened", 0, 1, { i: 0 }, null]);
    expect(msgs[2].slice(1, 7)).toEqual(["account-123", "Deposited", 1, 4, { i: 3 }, null]);
    const ids = (await call(server.url, token, "stream.get", "account-123")).map((m: any[]) => m[0]);
    expect([msgs[0][0], msgs[2][0]]).toEqual(ids);
    const order = (await get("order")).find((m: any[]) => m[4] === 5);
    expect(order[6]).toEqual({ correlationStreamName: "account-123" });
  });

  test("matching is category(stream) == name exactly: a name with '-' or an unknown name → []", async () => {
    expect(await get("account-123")).toEqual([]);
    expect(await get("acc")).toEqual([]);
    expect(await get("Account")).toEqual([]);
    expect(gpos(await get("accountX"))).toEqual([6]);
  });

  test('"" = every message of the namespace in global order', async () => {
    const all = await get("");
    expect(gpos(all)).toEqual(WRITES.map((_, i) => i + 1));
    expect(all.map((m: any[]) => m[1])).toEqual(WRITES.map((w) => w[0]));
  });

  test("position is a global position (inclusive, default 1); globalPosition overrides it", async () => {
    expect(gpos(await get("account", { position: 4 }))).toEqual([4, 7, 8, 10]);
    expect(gpos(await get("account", { position: 5 }))).toEqual([7, 8, 10]);
    expect(gpos(await get("account", { position: 0 }))).toEqual([1, 2, 4, 7, 8, 10]);
    expect(gpos(await get("account", { position: 11 }))).toEqual([]);
    expect(gpos(await get("account", { position: 1, globalPosition: 7 }))).toEqual([7, 8, 10]);
    expect(gpos(await get("account", { globalPosition: 9 }))).toEqual([10]);
  });

  test("batchSize limits the count; -1 is unlimited; > 10000 → 400", async () => {
    expect(gpos(await get("account", { batchSize: 2 }))).toEqual([1, 2]);
    expect(gpos(await get("account", { position: 3, batchSize: 3 }))).toEqual([4, 7, 8]);
    expect(gpos(await get("account", { batchSize: -1 }))).toEqual([1, 2, 4, 7, 8, 10]);
    expectError(await getRaw("account", { batchSize: 10001 }), 400, "INVALID_REQUEST");
  });

  test("correlation keeps messages whose metadata.correlationStreamName has that category (exact, case-sensitive)", async () => {
    expect(gpos(await get("order", { correlation: "account" }))).toEqual([5, 12]);
    expect(gpos(await get("order", { correlation: "user" }))).toEqual([9]);
    expect(gpos(await get("order", { correlation: "Account" }))).toEqual([11]);
    expect(gpos(await get("order", { correlation: "acc" }))).toEqual([]);
    expect(gpos(await get("order", { correlation: "" }))).toEqual([5, 9, 11, 12]);
    expect(gpos(await get("account", { correlation: "account" }))).toEqual([]);
  });

  test('categoryName not a string → "categoryName must be a string"', async () => {
    for (const name of [5, null, {}, ["account"]]) {
      expectError(await getRaw(name), 400, "INVALID_REQUEST", "categoryName must be a string");
    }
  });

  test("non-number position / batchSize → 400 INVALID_REQUEST", async () => {
    expectError(await getRaw("account", { position: "1" }), 400, "INVALID_REQUEST", /position must be a number/);
    expectError(await getRaw("account", { batchSize: "1" }), 400, "INVALID_REQUEST", /batchSize must be a number/);
  });
});

describe("category.get consumer groups (MD5 cardinal-id rule)", () => {
  const streamsOf = (msgs: any[][]) => [...new Set(msgs.map((m) => m[1]))].sort();

  test("test vectors of design.md", async () => {
    // account-123 → member 1 of 2 and 3 of 4; account-456 → 3 of 4 and 1 of 3; user-abc → 0 of 4.
    expect(streamsOf(await get("account", { consumerGroup: { member: 1, size: 2 } }))).toContain("account-123");
    expect(streamsOf(await get("account", { consumerGroup: { member: 0, size: 2 } }))).not.toContain("account-123");
    const m3of4 = streamsOf(await get("account", { consumerGroup: { member: 3, size: 4 } }));
    expect(m3of4).toContain("account-123");
    expect(m3of4).toContain("account-456");
    expect(streamsOf(await get("account", { consumerGroup: { member: 1, size: 3 } }))).toContain("account-456");
    expect(streamsOf(await get("user", { consumerGroup: { member: 0, size: 4 } }))).toEqual(["user-abc"]);
    for (const member of [1, 2, 3]) expect(await get("user", { consumerGroup: { member, size: 4 } })).toEqual([]);
  });

  test("account-123+retry goes where account-123 goes; a stream without '-' belongs to no member", async () => {
    for (const size of [2, 3, 4, 5]) {
      const seen: number[] = [];
      for (let member = 0; member < size; member++) {
        const msgs = await get("account", { consumerGroup: { member, size } });
        expect(gpos(msgs)).toEqual(
          WRITES.map((w, i) => [w[0], i + 1] as const)
            .filter(([s, g]) => s.split("-")[0] === "account" && groupMember(s, size) === member)
            .map(([, g]) => g),
        );
        const streams = streamsOf(msgs);
        expect(streams.includes("account-123")).toBe(streams.includes("account-123+retry"));
        seen.push(...gpos(msgs));
      }
      // The members partition the category, except the stream "account" (gpos 8).
      expect(seen.sort((a, b) => a - b)).toEqual([1, 2, 4, 7, 10]);
    }
  });

  test("the group filter is applied before the batch limit", async () => {
    const member = groupMember("account-123", 2)!; // 1
    const msgs = await get("account", { consumerGroup: { member, size: 2 }, batchSize: 2 });
    const expected = WRITES.map((w, i) => [w[0], i + 1] as const)
      .filter(([s]) => s.startsWith("account-") && groupMember(s, 2) === member)
      .map(([, g]) => g)
      .slice(0, 2);
    expect(msgs).toHaveLength(2);
    expect(gpos(msgs)).toEqual(expected);
  });

  test("consumerGroup {} = no filter", async () => {
    expect(gpos(await get("account", { consumerGroup: {} }))).toEqual([1, 2, 4, 7, 8, 10]);
  });

  const errors: Array<[unknown, string]> = [
    ["g", "options.consumerGroup must be an object"],
    [5, "options.consumerGroup must be an object"],
    [[0, 2], "options.consumerGroup must be an object"],
    [{ member: "1", size: 2 }, "options.consumerGroup.member must be a number"],
    [{ member: 1, size: "2" }, "options.consumerGroup.size must be a number"],
    [{ member: -1, size: 2 }, "options.consumerGroup.member must be non-negative"],
    [{ member: 0, size: 0 }, "options.consumerGroup.size must be positive"],
    [{ member: 0, size: -3 }, "options.consumerGroup.size must be positive"],
    [{ member: 2, size: 2 }, "options.consumerGroup.member must be < size"],
    [{ member: 5, size: 3 }, "options.consumerGroup.member must be < size"],
    [{ member: 1 }, "options.consumerGroup requires both member and size"],
    [{ size: 2 }, "options.consumerGroup requires both member and size"],
  ];
  for (const [group, message] of errors) {
    test(`consumerGroup ${JSON.stringify(group)} → "${message}"`, async () => {
      expectError(await getRaw("account", { consumerGroup: group }), 400, "INVALID_REQUEST", message);
    });
  }
});
