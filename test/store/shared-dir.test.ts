// A JS app (the package in process on a directory) and the server sharing one SQLite directory see
// each other's writes, subscriptions included: the `messagedb` binary in another process (through
// the black-box harness, `--db-url sqlite://<dir>`), and the package's serve() in this process.
import { describe, expect, test } from "bun:test";
import { MessageStore, serve, VersionConflictError } from "messagedb";
import { cleanupAfterAll, makeToken, startServer, tempDir } from "../harness";
import { HttpNamespace, HttpStore } from "./http-client";
import { expectRejects } from "./expect";
import type { Message, NamespaceLike } from "./types";
import { take, within } from "./util";

cleanupAfterAll();

const brief = (ms: Message[]) => ms.map((m) => [m.streamName, m.position, m.globalPosition, m.type]);
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

/** The scenario, given the app's namespace, the server's (HTTP) store and the app's store. */
async function sharedScenario(app: MessageStore, server: HttpStore) {
  const appNs: NamespaceLike = app.namespace("default");
  const srvNs: HttpNamespace = server.namespace("default");
  const appSub = appNs.subscribe({ category: "account" });
  try {
    // The app writes; the server reads it at once.
    expect(await appNs.write("account-1", { type: "FromApp", data: { by: "app" } })).toEqual({ position: 0, globalPosition: 1 });
    expect(brief(await srvNs.getStream("account-1"))).toEqual([["account-1", 0, 1, "FromApp"]]);
    expect((await srvNs.getStream("account-1"))[0].data).toEqual({ by: "app" });

    // The server writes; the app reads it at once, and sees the version for its own writes.
    expect(await srvNs.write("account-2", { type: "FromServer", data: { by: "server" } })).toEqual({ position: 0, globalPosition: 2 });
    expect(brief(await appNs.getStream("account-2"))).toEqual([["account-2", 0, 2, "FromServer"]]);
    expect(await appNs.streamVersion("account-2")).toBe(0);
    const e = await expectRejects(
      appNs.write("account-2", { type: "Late", data: {} }, { expectedVersion: -1 }),
      VersionConflictError,
      "STREAM_VERSION_CONFLICT",
      "Expected version -1, stream is at version 0",
    );
    expect([e.expected, e.actual]).toEqual([-1, 0]);

    // The app's subscription sees both, then the server's later writes (live).
    expect(brief(await take(appSub, 2))).toEqual([
      ["account-1", 0, 1, "FromApp"],
      ["account-2", 0, 2, "FromServer"],
    ]);
    expect(await srvNs.writeBatch("account-3", [{ type: "S1", data: {} }, { type: "S2", data: {} }])).toEqual({
      position: 0,
      globalPosition: 3,
      lastPosition: 1,
      lastGlobalPosition: 4,
    });
    await srvNs.write("user-1", { type: "NotAccount", data: {} });
    await srvNs.write("account-1", { type: "S3", data: {} }, { expectedVersion: 0 });
    expect(brief(await take(appSub, 3, 15_000))).toEqual([
      ["account-3", 0, 3, "S1"],
      ["account-3", 1, 4, "S2"],
      ["account-1", 1, 6, "S3"],
    ]);

    // The server's subscription (SSE) sees the app's writes.
    const srvSub = srvNs.subscribe({ all: true, position: 6 });
    try {
      expect(brief(await take(srvSub, 1))).toEqual([["account-1", 1, 6, "S3"]]);
      await appNs.write("order-1", { type: "AppLive", data: {} });
      expect(brief(await take(srvSub, 1, 15_000))).toEqual([["order-1", 0, 7, "AppLive"]]);
    } finally {
      await within(srvSub.return(undefined), 5000, "closing the SSE subscription");
    }

    // Interleaved writers from both sides: every global position once.
    await Promise.all(
      range(0, 20).map((i) =>
        i % 2 === 0 ? appNs.write(`mixed-${i % 3}`, { type: "App", data: { i } }) : srvNs.write(`mixed-${i % 3}`, { type: "Srv", data: { i } }),
      ),
    );
    expect((await appNs.getCategory("", { batchSize: -1 })).map((m) => m.globalPosition)).toEqual(range(1, 27));
    expect((await srvNs.getCategory("", { batchSize: -1 })).map((m) => m.globalPosition)).toEqual(range(1, 27));
    for (let s = 0; s < 3; s++) {
      const positions = (await appNs.getStream(`mixed-${s}`)).map((m) => m.position);
      expect(positions).toEqual(range(0, positions.length));
    }

    // Namespaces: created by the app, used through the server with the token it returned.
    const { token } = await app.createNamespace("tenant-a", { description: "made by the app" });
    const tenant = new HttpNamespace(server.url, token);
    expect(await tenant.write("account-9", { type: "ViaServer", data: {} })).toEqual({ position: 0, globalPosition: 1 });
    expect(brief(await app.namespace("tenant-a").getStream("account-9"))).toEqual([["account-9", 0, 1, "ViaServer"]]);
    const info = await server.namespaceInfo("tenant-a");
    expect([info.description, info.messageCount, info.streamCount]).toEqual(["made by the app", 1, 1]);
  } finally {
    await within(appSub.return(undefined), 5000, "closing the app's subscription");
  }
}

describe("a JS app and the server sharing one SQLite directory", () => {
  test("the messagedb binary (--db-url sqlite://<dir>) in another process", async () => {
    const dir = tempDir("messagedb-shared-");
    const token = makeToken("default");
    const server = await startServer({ testMode: false, args: ["--db-url", `sqlite://${dir}`, "--token", token] });
    expect(server.token).toBe(token);
    const app = await MessageStore.open(dir);
    try {
      await sharedScenario(app, new HttpStore(server.url, server.token));
    } finally {
      await app.close();
      await server.stop();
    }
  }, 60_000);

  test("serve({dbUrl: 'sqlite://<dir>', testMode: false, token}) in this process", async () => {
    const dir = tempDir("messagedb-shared-");
    const token = makeToken("default");
    const server = await serve({ port: 0, dbUrl: `sqlite://${dir}`, testMode: false, token });
    expect(server.token).toBe(token);
    const app = await MessageStore.open(`sqlite://${dir}`);
    try {
      await sharedScenario(app, new HttpStore(server.url, server.token));
    } finally {
      await app.close();
      await server.close();
    }
  }, 60_000);
});
