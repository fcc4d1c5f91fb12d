//! Event sourcing: an account's state is not stored, it is rebuilt from its events. A command
//! handler loads the state with the version it read, decides, and writes with that version as
//! the expected version, so a decision taken on stale state is refused instead of stored.
//!
//! `cargo run -p messagedb-examples --example event-sourcing`

use messagedb::{Error, GetStreamOpts, Message, Namespace, NewMessage, Store, WriteOpts};
use serde_json::json;

// [example]
// The state of an account: what its events add up to.
#[derive(Default)]
struct Account {
    owner: String,
    balance: i64,
}

// The projection: a fold over the events, oldest first.
fn project(events: &[Message]) -> Account {
    let mut account = Account::default();
    for event in events {
        let data = event.data.to_value();
        match event.message_type.as_str() {
            "Opened" => account.owner = data["owner"].as_str().unwrap_or_default().into(),
            "Deposited" => account.balance += data["amount"].as_i64().unwrap_or(0),
            "Withdrawn" => account.balance -= data["amount"].as_i64().unwrap_or(0),
            _ => {} // an event the projection does not know changes nothing
        }
    }
    account
}

// The state and the version it was read at: the last event's position (-1: no events).
async fn load(ns: &Namespace, stream: &str) -> Result<(Account, i64), Error> {
    let events = ns
        .get_stream(stream, &GetStreamOpts::default().batch_size(-1))
        .await?;
    Ok((project(&events), events.last().map_or(-1, |e| e.position)))
}

enum Command {
    Open(&'static str),
    Deposit(i64),
    Withdraw(i64),
}

// Load, decide, and write with the version loaded: if another handler wrote to the stream in
// between, nothing is written (STREAM_VERSION_CONFLICT), and the command can be tried again.
async fn handle(ns: &Namespace, stream: &str, command: Command) -> Result<String, Error> {
    let (Account { balance, .. }, version) = load(ns, stream).await?;
    let (event_type, data) = match command {
        Command::Open(owner) if version == -1 => ("Opened", json!({ "owner": owner })),
        Command::Open(_) => return Ok("refused: already open".into()),
        Command::Deposit(amount) => ("Deposited", json!({ "amount": amount })),
        Command::Withdraw(amount) if amount > balance => {
            return Ok(format!(
                "refused: cannot withdraw {amount}, balance is {balance}"
            ));
        }
        Command::Withdraw(amount) => ("Withdrawn", json!({ "amount": amount })),
    };
    let event = NewMessage::new(event_type, data.clone())?;
    let at = ns
        .write(stream, event, WriteOpts::expect(version))
        .await?
        .position;
    Ok(format!("{event_type} {data} at position {at}"))
}
// [/example]

#[tokio::main]
async fn main() -> Result<(), Error> {
    let store = Store::open("sqlite::memory:").await?;
    let ns = store.namespace("default");
    // Each command, then the state rebuilt from the stream, with the balance and version expected.
    let steps = [
        (Command::Open("ada"), 0, 0),
        (Command::Deposit(100), 100, 1),
        (Command::Withdraw(30), 70, 2),
        (Command::Withdraw(500), 70, 2),
    ];
    for (command, balance, version) in steps {
        let outcome = handle(&ns, "account-1", command).await?;
        let (Account { owner, balance: b }, v) = load(&ns, "account-1").await?;
        assert_eq!((owner.as_str(), b, v), ("ada", balance, version));
        println!("{outcome} -> owner {owner}, balance {b}, version {v}");
    }
    store.close().await;
    Ok(())
}
