// The store scenarios against the server over HTTP: the package's `serve({port: 0, testMode: true})`
// in this process, driven through ./http-client.ts with the admin token.
import { serve } from "messagedb";
import { HttpStore } from "./http-client";
import { storeScenarios } from "./scenarios";

storeScenarios("server over HTTP", async () => {
  const server = await serve({ port: 0, testMode: true });
  let closed: Promise<void> | undefined;
  const close = () => (closed ??= server.close());
  return { store: new HttpStore(server.url, server.token, close), surface: "http", dispose: close };
});
