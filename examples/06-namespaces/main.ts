// Namespaces: separate stores inside one store. Each has its own streams, its own global
// positions and its own token; one cannot see another's messages.
//
// bun examples/06-namespaces/main.ts
import assert from "node:assert/strict";
import { MessageStore, NamespaceNotFoundError } from "messagedb";

const store = await MessageStore.open(":memory:");

// [example]
// The token comes back this once (only its hash is kept): a client of the HTTP server
// presents it to reach this namespace, and no other.
for (const [tenant, description] of [["tenant-a", "Tenant A"], ["tenant-b", "Tenant B"]]) {
  const created = await store.createNamespace(tenant, { description });
  assert.ok(created.token.startsWith("ns_"));
  console.log(`created ${tenant}`);
}

// The same stream name in each namespace: two unrelated streams, each numbered from 0, and
// each namespace counting its own global positions from 1.
const [a, b] = [store.namespace("tenant-a"), store.namespace("tenant-b")];
const writes = [
  { ns: a, id: "tenant-a", type: "Opened", data: { owner: "ada" }, want: [0, 1] },
  { ns: a, id: "tenant-a", type: "Deposited", data: { amount: 10 }, want: [1, 2] },
  { ns: b, id: "tenant-b", type: "Opened", data: { owner: "bob" }, want: [0, 1] },
];
for (const { ns, id, type, data, want } of writes) {
  const w = await ns.write("account-1", { type, data });
  assert.deepEqual([w.position, w.globalPosition], want);
  console.log(`${id}: account-1 position ${w.position} global ${w.globalPosition} ${type} ${JSON.stringify(data)}`);
}

// Each namespace sees only its own messages, and counts only its own.
for (const [ns, id, want] of [[a, "tenant-a", ["Opened", "Deposited"]], [b, "tenant-b", ["Opened"]]] as const) {
  const types = (await ns.getStream("account-1")).map((m) => m.type);
  assert.deepEqual(types, want);
  const info = await store.namespaceInfo(id);
  assert.deepEqual([info.messageCount, info.streamCount], [want.length, 1]);
  console.log(`${id} (${info.description}) reads account-1: ${types.join(", ")}`);
  console.log(`${id}: messages ${info.messageCount}, streams ${info.streamCount}`);
}

// Every store has `default`. The listing is newest first: sort it by name to print it.
const listed = (await store.listNamespaces())
  .sort((x, y) => (x.namespace < y.namespace ? -1 : 1))
  .map((n) => `${n.namespace} ${n.messageCount}`);
assert.deepEqual(listed, ["default 0", "tenant-a 2", "tenant-b 1"]);
console.log(`namespaces (messages): ${listed.join(", ")}`);

// Deleting a namespace deletes its messages; its handles fail from then on.
const deleted = await store.deleteNamespace("tenant-b");
assert.equal(deleted.messagesDeleted, 1);
console.log(`deleted tenant-b, messages deleted ${deleted.messagesDeleted}`);
const err = await b.streamVersion("account-1").catch((e: unknown) => e);
assert.ok(err instanceof NamespaceNotFoundError && err.code === "NAMESPACE_NOT_FOUND");
console.log(`reading tenant-b: ${err.code} ${err.message}`);
const left = await store.listNamespaces();
assert.equal(left.length, 2);
assert.ok(left.every((n) => n.namespace !== "tenant-b"));
console.log(`namespaces left: ${left.length}`);
// [/example]

await store.close();
