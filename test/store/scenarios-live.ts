// The store scenarios that follow live commits and errors, registered by `storeScenarios`
// (./scenarios.ts) inside its describe block, on the same store and namespace.
import { describe, expect, test } from "bun:test";
import {
  DuplicateMessageIdError,
  InvalidRequestError,
  NamespaceExistsError,
  NamespaceNotFoundError,
  VersionConflictError,
} from "messagedb";
import type { NamespaceLike, StoreLike } from "./types";
import { brief, expectRejects, gpos, streams, writeEach } from "./expect";
import { take, UUID7_RE, within } from "./util";

/** What the scenarios run on: the current test's store and its `default` namespace. */
export interface Scope {
  readonly store: StoreLike;
  readonly ns: NamespaceLike;
}

export function liveScenarios(s: Scope) {
  describe("subscriptions", () => {
    test("stream: history then live, in order, exactly once, from a start position", async () => {
      await s.ns.write("account-1", { type: "H0", data: { n: 0 } });
      await s.ns.write("account-2", { type: "X", data: {} });
      await s.ns.write("account-1", { type: "H1", data: { n: 1 } });
      const sub = s.ns.subscribe({ stream: "account-1" });
      try {
        const history = await take(sub, 2);
        expect(brief(history)).toEqual([
          ["account-1", 0, 1, "H0"],
          ["account-1", 1, 3, "H1"],
        ]);
        expect(history[0].data).toEqual({ n: 0 });
        await s.ns.write("account-1", { type: "L2", data: { n: 2 }, metadata: { live: true } });
        await s.ns.write("account-2", { type: "X", data: {} });
        await s.ns.write("account-1", { type: "L3", data: { n: 3 } });
        const live = await take(sub, 2);
        expect(brief(live)).toEqual([
          ["account-1", 2, 4, "L2"],
          ["account-1", 3, 6, "L3"],
        ]);
        expect(live[0].metadata).toEqual({ live: true });
        expect(live[0].id).toMatch(UUID7_RE);
        await s.ns.write("account-1", { type: "L4", data: {} });
        expect(brief(await take(sub, 1))).toEqual([["account-1", 4, 7, "L4"]]);
      } finally {
        await within(sub.return(undefined), 5000, "closing the subscription");
      }
      const from = s.ns.subscribe({ stream: "account-1", position: 3 });
      try {
        expect(brief(await take(from, 2))).toEqual([
          ["account-1", 3, 6, "L3"],
          ["account-1", 4, 7, "L4"],
        ]);
      } finally {
        await within(from.return(undefined), 5000, "closing the subscription");
      }
    });

    test("category with a consumer group: only the member's streams, history then live", async () => {
      await writeEach(s.ns, ["account-123", "account-789", "account-456", "user-abc"], "H");
      const sub = s.ns.subscribe({ category: "account", consumerGroup: { member: 3, size: 4 } });
      try {
        expect(brief(await take(sub, 2))).toEqual([
          ["account-123", 0, 1, "H"],
          ["account-456", 0, 3, "H"],
        ]);
        await writeEach(s.ns, ["account-1", "account-123+part2", "account-789", "account-456", "user-abc"], "L");
        expect(brief(await take(sub, 2))).toEqual([
          ["account-123+part2", 0, 6, "L"],
          ["account-456", 1, 8, "L"],
        ]);
        await s.ns.write("account-123", { type: "Last", data: {} });
        expect(brief(await take(sub, 1))).toEqual([["account-123", 1, 10, "Last"]]);
      } finally {
        await within(sub.return(undefined), 5000, "closing the subscription");
      }
    });

    test("category from a global position", async () => {
      await writeEach(s.ns, ["account-1", "user-1", "account-2", "account-1"]);
      const sub = s.ns.subscribe({ category: "account", position: 2 });
      try {
        expect(brief(await take(sub, 2))).toEqual([
          ["account-2", 0, 3, "Event"],
          ["account-1", 1, 4, "Event"],
        ]);
        await s.ns.write("account-3", { type: "Live", data: {} });
        expect(brief(await take(sub, 1))).toEqual([["account-3", 0, 5, "Live"]]);
      } finally {
        await within(sub.return(undefined), 5000, "closing the subscription");
      }
    });

    test("all: every category in global order, history then live, from a position", async () => {
      await writeEach(s.ns, ["account-1", "user-1", "order-1"]);
      const sub = s.ns.subscribe({ all: true });
      try {
        expect(brief(await take(sub, 3))).toEqual([
          ["account-1", 0, 1, "Event"],
          ["user-1", 0, 2, "Event"],
          ["order-1", 0, 3, "Event"],
        ]);
        await s.ns.writeBatch("invoice-1", [{ type: "B1", data: {} }, { type: "B2", data: {} }]);
        await s.ns.write("account-1", { type: "Live", data: { ok: 1 } });
        const live = await take(sub, 3);
        expect(brief(live)).toEqual([
          ["invoice-1", 0, 4, "B1"],
          ["invoice-1", 1, 5, "B2"],
          ["account-1", 1, 6, "Live"],
        ]);
        expect(live[2].data).toEqual({ ok: 1 });
      } finally {
        await within(sub.return(undefined), 5000, "closing the subscription");
      }
      const from = s.ns.subscribe({ all: true, position: 5 });
      try {
        expect(gpos(await take(from, 2))).toEqual([5, 6]);
      } finally {
        await within(from.return(undefined), 5000, "closing the subscription");
      }
    });

    test("break closes the subscription; the store keeps working", async () => {
      await writeEach(s.ns, ["account-1", "account-1", "account-1"]);
      const sub = s.ns.subscribe({ stream: "account-1" });
      const seen: number[] = [];
      await within(
        (async () => {
          for await (const m of sub) {
            seen.push(m.position);
            if (seen.length === 2) break;
          }
        })(),
        10_000,
        "the for-await loop",
      );
      expect(seen).toEqual([0, 1]);
      expect(await within(sub.next(), 5000, "next() after break")).toEqual({ done: true, value: undefined });
      expect(await s.ns.write("account-1", { type: "After", data: {} })).toEqual({ position: 3, globalPosition: 4 });
      // A new subscription sees everything.
      const again = s.ns.subscribe({ stream: "account-1" });
      try {
        expect((await take(again, 4)).map((m) => m.position)).toEqual([0, 1, 2, 3]);
      } finally {
        await within(again.return(undefined), 5000, "closing the subscription");
      }
    });

    test("closing the store ends a waiting subscription", async () => {
      await s.ns.write("account-1", { type: "A", data: {} });
      const sub = s.ns.subscribe({ category: "account" });
      expect(gpos(await take(sub, 1))).toEqual([1]);
      const pending = sub.next();
      await s.store.close();
      expect(await within(pending, 10_000, "the pending next() after close")).toEqual({ done: true, value: undefined });
    });

    test("invalid subscriptions are refused with INVALID_REQUEST", async () => {
      for (const options of [{}, { stream: "account-1", category: "account" }, { category: "account", consumerGroup: { member: 4, size: 4 } }]) {
        let error: unknown;
        try {
          const sub = s.ns.subscribe(options);
          await within(sub.next(), 5000, `subscribe(${JSON.stringify(options)})`);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(InvalidRequestError);
        expect((error as InvalidRequestError).code).toBe("INVALID_REQUEST");
      }
    });
  });

  // ------------------------------------------------------------------------------------------
  describe("error classes and codes", () => {
    test("INVALID_REQUEST", async () => {
      await expectRejects(s.ns.write("", { type: "A", data: {} }), InvalidRequestError, "INVALID_REQUEST", "streamName must be a non-empty string");
      await expectRejects(s.ns.write("account-1", { type: "", data: {} }), InvalidRequestError, "INVALID_REQUEST", "message.type must be a non-empty string");
      await expectRejects(
        s.ns.write("account-1", { type: "A", data: [1] as unknown as Record<string, unknown> }),
        InvalidRequestError,
        "INVALID_REQUEST",
        "message.data must be an object",
      );
      await expectRejects(
        s.ns.write("account-1", { type: "A", data: {}, metadata: "x" as unknown as Record<string, unknown> }),
        InvalidRequestError,
        "INVALID_REQUEST",
        "message.metadata must be an object",
      );
      await expectRejects(s.ns.getStream(""), InvalidRequestError, "INVALID_REQUEST", "streamName must be a non-empty string");
      expect(await s.ns.getCategory("")).toEqual([]);
    });

    test("STREAM_VERSION_CONFLICT", async () => {
      await s.ns.write("account-1", { type: "A", data: {} });
      const e = await expectRejects(
        s.ns.write("account-1", { type: "A", data: {} }, { expectedVersion: -1 }),
        VersionConflictError,
        "STREAM_VERSION_CONFLICT",
        "Expected version -1, stream is at version 0",
      );
      expect({ expected: e.expected, actual: e.actual }).toEqual({ expected: -1, actual: 0 });
    });

    test("DUPLICATE_MESSAGE_ID", async () => {
      const id = "0190f2a4-5b6c-7d8e-9f00-112233445566";
      await s.ns.write("account-1", { type: "A", data: {} }, { id });
      await expectRejects(
        s.ns.write("account-1", { type: "A", data: {} }, { id }),
        DuplicateMessageIdError,
        "DUPLICATE_MESSAGE_ID",
        "Message ID '0190f2a4-5b6c-7d8e-9f00-112233445566' already exists",
      );
    });

    test("NAMESPACE_NOT_FOUND", async () => {
      await expectRejects(s.store.namespaceInfo("missing"), NamespaceNotFoundError, "NAMESPACE_NOT_FOUND", "Namespace 'missing' not found");
      await expectRejects(s.store.deleteNamespace("missing"), NamespaceNotFoundError, "NAMESPACE_NOT_FOUND", "Namespace 'missing' not found");
    });

    test("NAMESPACE_EXISTS", async () => {
      await s.store.createNamespace("twice");
      await expectRejects(s.store.createNamespace("twice"), NamespaceExistsError, "NAMESPACE_EXISTS", "Namespace 'twice' already exists");
    });
  });
}
