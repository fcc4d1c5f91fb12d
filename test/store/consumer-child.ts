// A consumer in a process of its own, for ./consumer-process.test.ts: opens URL, runs a handler-form
// consumer of the `account` category in namespace NS and prints `handled <globalPosition>` for each
// message it handles (after handling it), `started` once consuming, `done` when the consumer ended.
//
//   bun consumer-child.ts URL NS NAME POSITION_UPDATE_INTERVAL LEASE_MS
import { MessageStore } from "messagedb";

const [url, nsId, name, interval, lease] = process.argv.slice(2);
const store = await MessageStore.open(url);
const consumer = store.namespace(nsId).consume(
  { category: "account", name, positionUpdateInterval: Number(interval), positionUpdateIdle: 600_000, lease: Number(lease) },
  (m) => {
    process.stdout.write(`handled ${m.globalPosition}\n`);
  },
);
process.stdout.write("started\n");
await consumer.done;
process.stdout.write("done\n");
await store.close();
