//! Topic 11 of the tutorial (`examples/README.md`): a durable consumer. Its position survives a
//! restart; a message that keeps failing is retried, then parked.
//! `cargo run -p messagedb-examples --example consumer`

use std::time::Duration;

use messagedb::consumer::{Consumer, ConsumerId, ConsumerInfo, ConsumerOpts, Nacked, RetryOpts};
use messagedb::{Namespace, NewMessage, Store, WriteOpts};
use serde_json::{Value, json};

type Failure = Box<dyn std::error::Error>;

async fn deposit(ns: &Namespace, stream: &str, amount: impl Into<Value>) -> Result<(), Failure> {
    let m = NewMessage::new("Deposited", json!({ "amount": amount.into() }))?;
    ns.write(stream, m, WriteOpts::default()).await?;
    Ok(())
}

fn show(label: &str, i: &ConsumerInfo) {
    let position = i.position.map_or("none".into(), |p| p.to_string());
    let (lag, handled, parked) = (i.lag, i.handled, i.parked);
    println!("{label}: position {position} lag {lag} handled {handled} parked {parked}");
}

#[tokio::main]
async fn main() -> Result<(), Failure> {
    // Files, not memory: the position must outlive the store being closed.
    let dir = std::env::temp_dir().join(format!("messagedb-consumer-{}", std::process::id()));
    std::fs::create_dir(&dir)?;
    let url = format!("sqlite://{}", dir.display());
    // [example]
    // Takes `n` messages, each acknowledged, or retried and at last parked.
    async fn consume(consumer: &mut Consumer, run: u32, n: usize) -> Result<(), Failure> {
        let mut done = 0;
        while done < n {
            let next = tokio::time::timeout(Duration::from_secs(10), consumer.next()).await??;
            let m = next.ok_or("the consumer ended")?;
            // The projection cannot handle a deposit whose amount is not a number.
            let ok = m.data.to_value()["amount"].is_number();
            let outcome = if ok { "" } else { " failed" };
            println!("run {run}: {} {}{outcome}", m.stream_name, m.data.as_str());
            if ok {
                consumer.ack(&m).await?;
            } else if consumer.nack(&m, "amount must be a number").await? != Nacked::Parked {
                continue; // handed out again after the retry delay
            }
            done += 1;
        }
        Ok(())
    }
    let ms = Duration::from_millis;
    let options = ConsumerOpts::new("account", "projector")?
        // A failing message is tried 3 times (2 retries, 1 ms then 2 ms later), then parked.
        .retry(RetryOpts::new(2, ms(1), ms(5)))
        // Record on a clean stop (and every 100 messages), not after 1 s without messages: the
        // global positions printed here then never depend on timing.
        .position_update_idle(Duration::from_secs(60));

    let store = Store::open(&url).await?;
    let ns = store.namespace("default");
    deposit(&ns, "account-1", 10).await?;
    deposit(&ns, "account-2", 20).await?;
    deposit(&ns, "account-1", 5).await?;
    deposit(&ns, "account-3", 7).await?;
    deposit(&ns, "account-2", 1).await?;
    let mut consumer = ns.consumer(options.clone()).open().await?;
    consume(&mut consumer, 1, 5).await?;
    let info = consumer.info().await?;
    assert_eq!((info.position, info.lag, info.handled), (Some(5), 0, 5));
    show("run 1", &info);
    // A clean stop records the position, in the stream account:position-projector.
    consumer.stop().await?;
    store.close().await;

    // A restart: the store knows where the consumer stopped, and how far behind it is.
    let store = Store::open(&url).await?;
    let ns = store.namespace("default");
    deposit(&ns, "account-1", 3).await?;
    deposit(&ns, "account-3", 4).await?;
    deposit(&ns, "account-2", "ten").await?;
    let id = ConsumerId::new("account", "projector", None)?;
    let info = ns.consumer_info(&id).await?;
    assert_eq!((info.position, info.lag), (Some(5), 3));
    show("restarted", &info);

    // It resumes after its position. Global positions count every message of the namespace,
    // the position records too: the last deposit is at 9.
    let mut consumer = ns.consumer(options).open().await?;
    consume(&mut consumer, 2, 3).await?;
    let info = consumer.info().await?;
    assert_eq!((info.position, info.handled, info.parked), (Some(9), 2, 1));
    show("run 2", &info);
    consumer.stop().await?;

    // Parked messages wait for a fix: replay_parked hands them to a handler again.
    for p in ns.parked(&id).await? {
        assert_eq!(p.error, "amount must be a number");
        let (stream, position, tries) = (&p.stream_name, p.position, p.attempts);
        println!("parked: {stream} position {position} after {tries} tries");
    }
    store.close().await;
    // [/example]
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
