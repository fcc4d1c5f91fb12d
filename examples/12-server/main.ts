// Topic 12 of the tutorial (examples/README.md): start the bundled HTTP server from code and
// call it over HTTP with its token.
import assert from "node:assert/strict";
import { type Server, serve } from "messagedb";

/** One RPC call: a JSON array `[method, args…]` posted to `/rpc`, with the token as a bearer
 * token. Returns the HTTP status and the body. */
async function rpc(server: Server, call: unknown[]): Promise<[number, string]> {
  const response = await fetch(`${server.url}/rpc`, {
    method: "POST",
    headers: { Authorization: `Bearer ${server.token}`, "Content-Type": "application/json" },
    body: JSON.stringify(call),
    signal: AbortSignal.timeout(10_000),
  });
  return [response.status, await response.text()];
}

// [example]
// Test mode (an in-memory store), any free port, loopback only.
const server = await serve();

const opened = { type: "Opened", data: { owner: "ada" } };
let [status, body] = await rpc(server, ["stream.write", "account-1", opened, { expectedVersion: -1 }]);
assert.equal(status, 200);
console.log(`stream.write: ${body}`);
const deposited = { type: "Deposited", data: { amount: 10 } };
const call = ["stream.write", "account-1", deposited, { expectedVersion: 0 }];
[status, body] = await rpc(server, call);
assert.equal(status, 200);
console.log(`stream.write: ${body}`);

// The same write again: the stream moved on, so it is refused with a status and a code.
[status, body] = await rpc(server, call);
const { error } = JSON.parse(body) as { error: { code: string; message: string } };
assert.deepEqual([status, error.code], [409, "STREAM_VERSION_CONFLICT"]);
console.log(`stream.write: ${status} ${error.code} ${error.message}`);

// A stream message is [id, type, position, globalPosition, data, metadata, time].
[status, body] = await rpc(server, ["stream.get", "account-1"]);
assert.equal(status, 200);
const messages = JSON.parse(body) as [string, string, number, number, Record<string, unknown>][];
assert.equal(messages.length, 2);
for (const [, type, position, globalPosition, data] of messages) {
  console.log(`stream.get: position ${position} global ${globalPosition} ${type} ${JSON.stringify(data)}`);
}

[status, body] = await rpc(server, ["sys.health"]);
assert.equal(status, 200);
console.log(`sys.health: ${body}`);
await server.close();
console.log("server stopped");
// [/example]
