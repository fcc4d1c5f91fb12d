// Event sourcing: an account's state is not stored, it is rebuilt from its events. A command
// handler loads the state with the version it read, decides, and writes with that version as
// the expected version, so a decision taken on stale state is refused instead of stored.
//
// bun examples/07-event-sourcing/main.ts
import assert from "node:assert/strict";
import { type Message, MessageStore, type Namespace, type NewMessage } from "messagedb";

// [example]
// The state of an account: what its events add up to.
interface Account {
  owner: string;
  balance: number;
}

// The projection: a fold over the events, oldest first.
function project(events: Message[]): Account {
  const account: Account = { owner: "", balance: 0 };
  for (const event of events) {
    switch (event.type) {
      case "Opened":
        account.owner = String(event.data.owner);
        break;
      case "Deposited":
        account.balance += Number(event.data.amount);
        break;
      case "Withdrawn":
        account.balance -= Number(event.data.amount);
        break;
      // an event the projection does not know changes nothing
    }
  }
  return account;
}

// The state and the version it was read at: the last event's position (-1: no events).
async function load(ns: Namespace, stream: string): Promise<[Account, number]> {
  const events = await ns.getStream(stream, { batchSize: -1 });
  return [project(events), events.at(-1)?.position ?? -1];
}

type Command = { open: string } | { deposit: number } | { withdraw: number };

// Load, decide, and write with the version loaded: if another handler wrote to the stream in
// between, nothing is written (STREAM_VERSION_CONFLICT), and the command can be tried again.
async function handle(ns: Namespace, stream: string, command: Command): Promise<string> {
  const [{ balance }, version] = await load(ns, stream);
  let event: NewMessage;
  if ("open" in command) {
    if (version !== -1) return "refused: already open";
    event = { type: "Opened", data: { owner: command.open } };
  } else if ("deposit" in command) {
    event = { type: "Deposited", data: { amount: command.deposit } };
  } else {
    if (command.withdraw > balance) return `refused: cannot withdraw ${command.withdraw}, balance is ${balance}`;
    event = { type: "Withdrawn", data: { amount: command.withdraw } };
  }
  const { position } = await ns.write(stream, event, { expectedVersion: version });
  return `${event.type} ${JSON.stringify(event.data)} at position ${position}`;
}
// [/example]

const store = await MessageStore.open(":memory:");
const ns = store.namespace("default");
// Each command, then the state rebuilt from the stream, with the balance and version expected.
const steps: [Command, number, number][] = [
  [{ open: "ada" }, 0, 0],
  [{ deposit: 100 }, 100, 1],
  [{ withdraw: 30 }, 70, 2],
  [{ withdraw: 500 }, 70, 2],
];
for (const [command, balance, version] of steps) {
  const outcome = await handle(ns, "account-1", command);
  const [account, v] = await load(ns, "account-1");
  assert.deepEqual([account.owner, account.balance, v], ["ada", balance, version]);
  console.log(`${outcome} -> owner ${account.owner}, balance ${account.balance}, version ${v}`);
}
await store.close();
