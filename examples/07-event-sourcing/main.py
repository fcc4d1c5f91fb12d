"""Event sourcing: an account's state is not stored, it is rebuilt from its events. A command
handler loads the state with the version it read, decides, and writes expecting that version.

python examples/07-event-sourcing/main.py
"""

import json
from dataclasses import dataclass
from typing import Dict, List, Tuple, Union

import messagedb


# [example]
# The state of an account: what its events add up to.
@dataclass
class Account:
    owner: str = ""
    balance: int = 0


# The projection: a fold over the events, oldest first.
def project(events: List[messagedb.Message]) -> Account:
    account = Account()
    for event in events:
        if event.type == "Opened":
            account.owner = event.data["owner"]
        elif event.type == "Deposited":
            account.balance += event.data["amount"]
        elif event.type == "Withdrawn":
            account.balance -= event.data["amount"]
        # an event the projection does not know changes nothing
    return account


# The state and the version it was read at: the last event's position (-1: no events).
def load(ns: messagedb.Namespace, stream: str) -> Tuple[Account, int]:
    events = ns.get_stream(stream, batch_size=-1)
    return project(events), events[-1].position if events else -1


@dataclass
class Open:
    owner: str


@dataclass
class Deposit:
    amount: int


@dataclass
class Withdraw:
    amount: int


# Load, decide, and write with the version loaded: if another handler wrote to the stream in
# between, nothing is written (STREAM_VERSION_CONFLICT), and the command can be tried again.
def handle(ns: messagedb.Namespace, stream: str, command: Union[Open, Deposit, Withdraw]) -> str:
    account, version = load(ns, stream)
    data: Dict[str, Union[str, int]]
    if isinstance(command, Open):
        if version != -1:
            return "refused: already open"
        event_type, data = "Opened", {"owner": command.owner}
    elif isinstance(command, Deposit):
        event_type, data = "Deposited", {"amount": command.amount}
    else:
        if command.amount > account.balance:
            return f"refused: cannot withdraw {command.amount}, balance is {account.balance}"
        event_type, data = "Withdrawn", {"amount": command.amount}
    written = ns.write(stream, event_type, data, expected_version=version)
    return f"{event_type} {json.dumps(data, separators=(',', ':'))} at position {written.position}"
# [/example]


with messagedb.Store.open(":memory:") as store:
    ns = store.namespace("default")
    # Each command, then the state rebuilt from the stream, with the balance and version expected.
    steps: List[Tuple[Union[Open, Deposit, Withdraw], int, int]] = [
        (Open("ada"), 0, 0),
        (Deposit(100), 100, 1),
        (Withdraw(30), 70, 2),
        (Withdraw(500), 70, 2),
    ]
    for command, balance, version in steps:
        outcome = handle(ns, "account-1", command)
        account, v = load(ns, "account-1")
        assert (account.owner, account.balance, v) == ("ada", balance, version)
        print(f"{outcome} -> owner {account.owner}, balance {account.balance}, version {v}")
