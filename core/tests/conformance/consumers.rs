use std::time::Duration;

use messagedb::consumer::{
    Consumer, ConsumerOpts, Nacked, OnError, PARKED, RECORDED, RetryOpts, Start,
};
use messagedb::{ConsumerGroup, Message, Namespace, WriteOpts};
use serde_json::json;

use crate::{Fixture, msg};

/// Every test step finishes within this, or fails.
const STEP: Duration = Duration::from_secs(10);

async fn write_each(ns: &Namespace, streams: &[&str]) {
    for (i, s) in streams.iter().enumerate() {
        ns.write(s, msg("Done", json!({ "i": i })), WriteOpts::default())
            .await
            .unwrap();
    }
}

/// The next message, within the deadline.
pub async fn next(c: &mut Consumer) -> Message {
    tokio::time::timeout(STEP, c.next())
        .await
        .expect("a message within the deadline")
        .unwrap()
        .expect("the subscription is open")
}

/// Takes and acknowledges `n` messages; their global positions.
pub async fn handle(c: &mut Consumer, n: usize) -> Vec<i64> {
    let mut handled = Vec::new();
    for _ in 0..n {
        let m = next(c).await;
        c.ack(&m).await.unwrap();
        handled.push(m.global_position);
    }
    handled
}

/// Must hold 1: after a clean stop nothing is handed out twice; after a crash (the consumer
/// dropped without stopping) only what came after the last recorded position is handed out
/// again, and nothing is skipped.
pub async fn a_consumer_resumes_after_its_recorded_position(f: &Fixture) {
    let store = f.open().await;
    let ns = store.namespace("default");
    let streams: Vec<String> = (0..12).map(|i| format!("account-{}", i % 4)).collect();
    write_each(&ns, &streams.iter().map(String::as_str).collect::<Vec<_>>()).await;
    ns.write("other-1", msg("Noise", json!({})), WriteOpts::default())
        .await
        .unwrap();
    let opts = || {
        ConsumerOpts::new("account", "projector")
            .unwrap()
            .position_update_interval(3)
    };
    let mut c = ns.consumer(opts()).open().await.unwrap();
    let first = handle(&mut c, 5).await;
    assert_eq!(first, vec![1, 2, 3, 4, 5]);
    c.stop().await.unwrap();
    let id = opts().id;
    assert_eq!(ns.consumer_position(&id).await.unwrap(), Some(5));

    // A clean stop: the next run starts after 5.
    let mut c = ns.consumer(opts()).open().await.unwrap();
    let second = handle(&mut c, 4).await;
    assert_eq!(second, vec![6, 7, 8, 9]);
    // A crash: 6, 7, 8 were recorded (every 3), 9 was not.
    drop(c);
    // The recording of 8 was written in the background; it lands (bounded wait).
    let deadline = std::time::Instant::now() + STEP;
    while ns.consumer_position(&id).await.unwrap() != Some(8) {
        assert!(std::time::Instant::now() < deadline, "8 never recorded");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut c = ns.consumer(opts()).open().await.unwrap();
    let third = handle(&mut c, 4).await;
    assert_eq!(third, vec![9, 10, 11, 12], "only 9 again, nothing skipped");
    c.stop().await.unwrap();

    // The position stream is Eventide's, and its last `Recorded` message carries the position.
    let last = ns
        .get_last("account:position-projector", Some(RECORDED))
        .await
        .unwrap()
        .expect("a recorded position");
    assert_eq!(last.data.to_value(), json!({ "position": 12 }));
    // Rewinding: the consumer resumes after the position set.
    ns.set_consumer_position(&id, 2).await.unwrap();
    let mut c = ns.consumer(opts()).open().await.unwrap();
    assert_eq!(handle(&mut c, 2).await, vec![3, 4]);
}

/// Must hold 2: the members of a consumer group together handle every message once, each stream
/// by one member, in order; each member has a position of its own.
pub async fn consumer_group_members_handle_every_message_once(f: &Fixture) {
    let store = f.open().await;
    let ns = store.namespace("default");
    let streams: Vec<String> = (0..30).map(|i| format!("order-{}", i % 7)).collect();
    write_each(&ns, &streams.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let mut all = Vec::new();
    let mut owner = std::collections::HashMap::new();
    for member in 0..3 {
        let opts = ConsumerOpts::new("order", "shipper")
            .unwrap()
            .group(ConsumerGroup::new(member, 3).unwrap())
            .unwrap();
        assert_eq!(
            opts.id.position_stream(),
            format!("order:position-shipper_{member}_3")
        );
        let expected = streams
            .iter()
            .filter(|s| messagedb::in_consumer_group(s, member, 3))
            .count();
        let mut c = ns.consumer(opts).open().await.unwrap();
        for _ in 0..expected {
            let m = next(&mut c).await;
            assert_eq!(
                *owner.entry(m.stream_name.clone()).or_insert(member),
                member
            );
            c.ack(&m).await.unwrap();
            all.push(m.global_position);
        }
        c.stop().await.unwrap();
    }
    all.sort();
    assert_eq!(all, (1..=30).collect::<Vec<_>>());
}

/// A whole-namespace consumer never hands out position records (its own or others'); an idle
/// consumer records what it acknowledged after `position_update_idle`; acknowledging out of turn
/// is refused.
pub async fn a_whole_namespace_consumer_skips_records_and_flushes_when_idle(f: &Fixture) {
    let store = f.open().await;
    let ns = store.namespace("default");
    write_each(&ns, &["a-1", "b-1"]).await;
    let other = ConsumerOpts::new("a", "x").unwrap();
    ns.set_consumer_position(&other.id, 1).await.unwrap(); // global position 3
    write_each(&ns, &["c-1"]).await; // 4
    let opts = ConsumerOpts::new("", "audit")
        .unwrap()
        .start(Start::At(1))
        .position_update_idle(Duration::from_millis(50));
    let id = opts.id.clone();
    assert_eq!(id.position_stream(), "$all:position-audit");
    let mut c = ns.consumer(opts).open().await.unwrap();
    let m = next(&mut c).await;
    assert_eq!(
        c.next().await.map_err(|e| e.code()).unwrap_err(),
        "INVALID_REQUEST",
        "the message handed out must be acknowledged first"
    );
    c.ack(&m).await.unwrap();
    assert_eq!(
        c.ack(&m).await.map_err(|e| e.code()),
        Err("INVALID_REQUEST")
    );
    let handled = vec![m.global_position];
    let rest: Vec<i64> = handle(&mut c, 2).await;
    assert_eq!(
        [handled, rest].concat(),
        vec![1, 2, 4],
        "the record at 3 is passed over"
    );
    // Idle: the position is recorded without a stop; no message comes meanwhile.
    let waited = tokio::time::timeout(Duration::from_millis(600), c.next()).await;
    assert!(waited.is_err(), "no further message");
    assert_eq!(ns.consumer_position(&id).await.unwrap(), Some(4));
    // Its own record (global position 5) is not handed out either, and causes no recording.
    write_each(&ns, &["d-1"]).await; // 6
    let m = next(&mut c).await;
    assert_eq!(m.global_position, 6);
    c.ack(&m).await.unwrap();
    c.stop().await.unwrap();
    assert_eq!(ns.consumer_position(&id).await.unwrap(), Some(6));
    assert_eq!(
        ns.get_stream("$all:position-audit", &Default::default())
            .await
            .unwrap()
            .len(),
        2,
        "one record when idle, one at the stop"
    );
}

/// Must hold 3: a message that fails every try is retried with growing delays, then parked with
/// its error, and the consumer goes on; with `OnError::Stop` the consumer stops instead and the
/// message comes first at the next start.
pub async fn a_failing_message_is_retried_then_parked(f: &Fixture) {
    let store = f.open().await;
    let ns = store.namespace("default");
    write_each(&ns, &["task-1", "task-2", "task-3"]).await;
    let retry = RetryOpts::default();
    let opts = ConsumerOpts::new("task", "worker")
        .unwrap()
        .position_update_interval(1)
        .retry(RetryOpts::new(
            2,
            Duration::from_millis(20),
            Duration::from_millis(30),
        ));
    let id = opts.id.clone();
    let mut c = ns.consumer(opts).open().await.unwrap();
    let first = next(&mut c).await;
    assert_eq!(first.global_position, 1);
    let mut delays = Vec::new();
    for _ in 0..2 {
        match c.nack(&first, "boom").await.unwrap() {
            Nacked::Retrying { attempt, delay } => delays.push((attempt, delay)),
            other => panic!("expected a retry, got {other:?}"),
        }
        let started = std::time::Instant::now();
        let again = next(&mut c).await;
        assert_eq!(again.global_position, 1, "the same message again");
        assert!(started.elapsed() >= delays.last().unwrap().1);
    }
    assert_eq!(
        delays,
        vec![
            (1, Duration::from_millis(20)),
            (2, Duration::from_millis(30))
        ],
        "doubling, capped"
    );
    assert_eq!(c.nack(&first, "boom").await.unwrap(), Nacked::Parked);
    let second = next(&mut c).await;
    assert_eq!(second.global_position, 2, "the consumer goes on");
    c.ack(&second).await.unwrap();
    let parked = ns.parked(&id).await.unwrap();
    assert_eq!(parked.len(), 1);
    let p = &parked[0];
    assert_eq!(
        (
            p.stream_name.as_str(),
            p.global_position,
            p.error.as_str(),
            p.attempts
        ),
        ("task-1", 1, "boom", 3)
    );
    assert_eq!(p.id, first.id.to_string());
    let record = ns
        .get_last("task:parked-worker", Some(PARKED))
        .await
        .unwrap()
        .expect("the Parked record");
    assert_eq!(
        record.data.to_value(),
        json!({"stream": "task-1", "position": 0, "globalPosition": 1, "type": "Done",
               "id": first.id.to_string(), "error": "boom", "attempts": 3})
    );
    c.stop().await.unwrap();
    assert_eq!(ns.consumer_position(&id).await.unwrap(), Some(2));

    // Attempts 0 parks at once; OnError::Stop stops without moving past the message.
    let stopping = ConsumerOpts::new("task", "strict")
        .unwrap()
        .retry(RetryOpts::new(0, retry.initial_delay, retry.max_delay))
        .on_error(OnError::Stop);
    let strict = stopping.id.clone();
    let mut c = ns.consumer(stopping.clone()).open().await.unwrap();
    let m = next(&mut c).await;
    c.ack(&m).await.unwrap();
    let m = next(&mut c).await;
    assert_eq!(c.nack(&m, "no").await.unwrap(), Nacked::Stopped);
    assert!(
        c.next().await.unwrap().is_none(),
        "a stopped consumer hands out nothing"
    );
    assert_eq!(ns.consumer_position(&strict).await.unwrap(), Some(1));
    assert!(ns.parked(&strict).await.unwrap().is_empty());
    drop(c);
    let mut c = ns.consumer(stopping).open().await.unwrap();
    assert_eq!(
        next(&mut c).await.global_position,
        2,
        "the failed message comes first"
    );
}
