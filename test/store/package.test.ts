// Package-only checks: the stream-name helpers, the CLOSED error, the error-class conversion point
// the HTTP client shares with the native errors, and the admin rule seen through the HTTP client.
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import {
  AuthError,
  BackendError,
  cardinalId,
  category,
  ClosedError,
  consumerGroupMember,
  DuplicateMessageIdError,
  errorCodes,
  errorFor,
  hash64,
  id,
  InvalidRequestError,
  isCategory,
  MessageDBError,
  MessageStore,
  NamespaceExistsError,
  NamespaceNotFoundError,
  PositionExistsError,
  serve,
  VersionConflictError,
} from "messagedb";
import { HttpStore } from "./http-client";
import { expectRejects } from "./expect";

const md5Hash64 = (v: string) => createHash("md5").update(v, "utf8").digest().readBigInt64BE(0);

describe("stream-name helpers", () => {
  test("category, id, cardinalId, isCategory", () => {
    expect(category("account-123")).toBe("account");
    expect(category("account-123-x")).toBe("account");
    expect(category("account")).toBe("account");
    expect(category("account:command-1")).toBe("account:command");
    expect(id("account-123")).toBe("123");
    expect(id("account-123-x")).toBe("123-x");
    expect(id("account")).toBeNull();
    expect(cardinalId("account-123+abc")).toBe("123");
    expect(cardinalId("account-123")).toBe("123");
    expect(cardinalId("account")).toBeNull();
    expect(isCategory("account")).toBe(true);
    expect(isCategory("account-1")).toBe(false);
  });

  test("hash64 is the first 8 bytes of MD5 as a signed 64-bit integer", () => {
    for (const v of ["123", "456", "abc", "7f3c2a", "", "héllo"]) expect(hash64(v)).toBe(md5Hash64(v));
    expect(hash64("abc")).toBe(-8070080442485551184n);
    // The consumer-group vectors: |hash64(cardinal id)| mod size.
    const member = (v: string, size: bigint) => Number((hash64(v) < 0n ? -hash64(v) : hash64(v)) % size);
    expect([member("123", 2n), member("123", 4n), member("456", 4n), member("456", 3n), member("abc", 4n), member("7f3c2a", 5n)]).toEqual([
      1, 3, 3, 1, 0, 4,
    ]);
  });

  test("consumerGroupMember is the member a grouped category read gives each stream to", async () => {
    expect([
      consumerGroupMember("account-123", 2),
      consumerGroupMember("account-123+retry", 4),
      consumerGroupMember("account-456", 3),
      consumerGroupMember("account-7f3c2a", 5),
    ]).toEqual([1, 3, 1, 4]);
    // No id, no member; no member of an empty group.
    expect([consumerGroupMember("account", 2), consumerGroupMember("account-1", 0)]).toEqual([null, null]);
    const store = await MessageStore.open(":memory:");
    try {
      const ns = store.namespace("default");
      const streams = Array.from({ length: 20 }, (_, i) => `account-${i}`);
      for (const s of streams) await ns.write(s, { type: "Opened", data: {} });
      for (let member = 0; member < 3; member++) {
        const read = (await ns.getCategory("account", { consumerGroup: { member, size: 3 } })).map((m) => m.streamName);
        expect(read).toEqual(streams.filter((s) => consumerGroupMember(s, 3) === member));
      }
    } finally {
      await store.close();
    }
  });
});

describe("errors", () => {
  test("errorFor maps every code to its class, with details", () => {
    const conflict = errorFor("STREAM_VERSION_CONFLICT", "Expected version 3, stream is at version 5", { expected: 3, actual: 5 });
    expect(conflict).toBeInstanceOf(VersionConflictError);
    expect([(conflict as VersionConflictError).expected, (conflict as VersionConflictError).actual]).toEqual([3, 5]);
    const cases: [string, Function][] = [
      ["INVALID_REQUEST", InvalidRequestError],
      ["DUPLICATE_MESSAGE_ID", DuplicateMessageIdError],
      ["NAMESPACE_NOT_FOUND", NamespaceNotFoundError],
      ["NAMESPACE_EXISTS", NamespaceExistsError],
      ["AUTH_REQUIRED", AuthError],
      ["AUTH_UNAUTHORIZED", AuthError],
      ["CLOSED", ClosedError],
      ["BACKEND_ERROR", BackendError],
      ["SOMETHING_NEW", MessageDBError],
    ];
    for (const [code, cls] of cases) {
      const e = errorFor(code, `text of ${code}`);
      expect([e.constructor.name, e.code, e.message]).toEqual([cls.name, code, `text of ${code}`]);
      expect(e).toBeInstanceOf(MessageDBError);
    }
    expect((errorFor("BACKEND_ERROR", "busy", { retryable: true }) as BackendError).retryable).toBe(true);
    expect((errorFor("BACKEND_ERROR", "broken") as BackendError).retryable).toBe(false);
  });

  test("CLOSED: calls after close fail with ClosedError", async () => {
    const store = await MessageStore.open(":memory:");
    const ns = store.namespace("default");
    await ns.write("account-1", { type: "A", data: {} });
    await store.close();
    await expectRejects(ns.write("account-1", { type: "A", data: {} }), ClosedError, "CLOSED", "The store is closed");
    await expectRejects(ns.getStream("account-1"), ClosedError, "CLOSED", "The store is closed");
    await expectRejects(store.listNamespaces(), ClosedError, "CLOSED", "The store is closed");
  });

  test("the whole error table: every code has its class, code and status; a failed serve() is SERVER_START_FAILED", async () => {
    const expected: Record<string, [abstract new (...args: any[]) => MessageDBError, number]> = {
      INVALID_REQUEST: [InvalidRequestError, 400],
      STREAM_VERSION_CONFLICT: [VersionConflictError, 409],
      DUPLICATE_MESSAGE_ID: [DuplicateMessageIdError, 409],
      POSITION_EXISTS: [PositionExistsError, 409],
      NAMESPACE_NOT_FOUND: [NamespaceNotFoundError, 404],
      NAMESPACE_EXISTS: [NamespaceExistsError, 409],
      CLOSED: [ClosedError, 503],
      BACKEND_ERROR: [BackendError, 500],
      METHOD_NOT_FOUND: [MessageDBError, 404],
      NOT_FOUND: [MessageDBError, 404],
      AUTH_REQUIRED: [AuthError, 401],
      AUTH_INVALID_TOKEN: [AuthError, 401],
      AUTH_UNAUTHORIZED: [AuthError, 403],
      SERVER_START_FAILED: [MessageDBError, 500],
    };
    const table = errorCodes();
    expect(table.map((c) => c.code)).toEqual(Object.keys(expected));
    for (const { code, status, retryable } of table) {
      const [cls, expectedStatus] = expected[code];
      const e = errorFor(code, `a ${code} error`);
      expect([e.constructor.name, e.code, e.message, status, retryable]).toEqual([
        cls.name,
        code,
        `a ${code} error`,
        expectedStatus,
        code === "BACKEND_ERROR",
      ]);
    }
    await expect(serve({ token: "not-a-token" })).rejects.toMatchObject({ code: "SERVER_START_FAILED" });
  });

  test("serve() listens on loopback only unless told otherwise; a port out of range is an InvalidRequestError", async () => {
    const server = await serve();
    try {
      expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
    } finally {
      await server.close();
    }
    for (const port of [70000, 65536, -1]) {
      await expectRejects(serve({ port }), InvalidRequestError, "INVALID_REQUEST", "port must be between 0 and 65535");
    }
    const everywhere = await serve({ host: "0.0.0.0" });
    try {
      expect(everywhere.url).toBe(`http://localhost:${everywhere.port}`);
    } finally {
      await everywhere.close();
    }
  });

  test("over HTTP a tenant token cannot administer namespaces: AuthError AUTH_UNAUTHORIZED", async () => {
    const server = await serve({ port: 0, testMode: true });
    try {
      const admin = new HttpStore(server.url, server.token);
      const { token } = await admin.createNamespace("tenant-a");
      const tenant = new HttpStore(server.url, token);
      await expectRejects(tenant.createNamespace("tenant-b"), AuthError, "AUTH_UNAUTHORIZED", "Token not authorized for namespace");
      await expectRejects(tenant.listNamespaces(), AuthError, "AUTH_UNAUTHORIZED", "Token not authorized for namespace");
      // A tenant may read its own namespace's info.
      expect((await tenant.namespaceInfo("tenant-a")).messageCount).toBe(0);
      expect((await admin.listNamespaces()).map((n) => n.namespace)).toEqual(["tenant-a", "default"]);
    } finally {
      await server.close();
    }
  });
});
