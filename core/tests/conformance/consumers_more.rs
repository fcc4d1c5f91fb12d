//! Consumers, continued: replaying and discarding parked messages, one active instance with a
//! standby taking over, the handler form, `Start::End` and `info`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use messagedb::consumer::{
    ConsumerOpts, DISCARDED, PARKED, RECORDED, REPLAYED, RetryOpts, Settled, Start,
};
use messagedb::{Message, WriteOpts};
use serde_json::json;

use crate::consumers::{handle, next};
use crate::{Fixture, msg};

/// Every test step finishes within this, or fails.
const STEP: Duration = Duration::from_secs(10);

async fn write_n(ns: &messagedb::Namespace, stream: &str, n: usize) {
    for i in 0..n {
        ns.write(stream, msg("Done", json!({ "i": i })), WriteOpts::default())
            .await
            .unwrap();
    }
}

/// Must hold 3, second half: a handler that fails parks the message (handler form, `attempts`
/// 0); replaying hands it to the handler again and records the outcome; a replay that fails
/// leaves it parked; discarding gives it up. Nothing is ever removed from the parked stream.
pub async fn parked_messages_are_replayed_or_discarded(f: &Fixture) {
    let store = f.open().await;
    let ns = store.namespace("default");
    for s in ["task-1", "task-2", "task-3"] {
        write_n(&ns, s, 1).await;
    }
    let opts = ConsumerOpts::new("task", "worker")
        .unwrap()
        .retry(RetryOpts::new(0, Duration::ZERO, Duration::ZERO));
    let id = opts.id.clone();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let done = Arc::new(tokio::sync::Notify::new());
    let handler = {
        let (seen, done) = (seen.clone(), done.clone());
        move |m: Message| {
            let (seen, done) = (seen.clone(), done.clone());
            async move {
                seen.lock().unwrap().push(m.global_position);
                if m.global_position == 3 {
                    done.notify_one();
                    return Ok(());
                }
                Err(format!("cannot handle {}", m.global_position))
            }
        }
    };
    let stop = {
        let done = done.clone();
        async move { done.notified().await }
    };
    tokio::time::timeout(STEP, ns.consumer(opts).run_until(handler, stop))
        .await
        .expect("the consumer stops within the deadline")
        .unwrap();
    assert_eq!(*seen.lock().unwrap(), vec![1, 2, 3]);
    assert_eq!(ns.consumer_position(&id).await.unwrap(), Some(3));
    let parked = ns.parked(&id).await.unwrap();
    assert_eq!(
        parked
            .iter()
            .map(|p| (p.global_position, p.error.as_str(), p.attempts))
            .collect::<Vec<_>>(),
        vec![(1, "cannot handle 1", 1), (2, "cannot handle 2", 1)]
    );
    assert_eq!(
        ns.parked_message(&parked[1])
            .await
            .unwrap()
            .map(|m| m.stream_name),
        Some("task-2".to_owned())
    );
    let info = ns.consumer_info(&id).await.unwrap();
    assert_eq!(
        (info.position, info.lag, info.parked, info.active),
        (Some(3), 0, 2, false)
    );

    // Replay: 1 fails again and stays parked, 2 is handled.
    let replay = ns
        .replay_parked(&id, |m: Message| async move {
            if m.global_position == 1 {
                Err("still broken")
            } else {
                Ok(())
            }
        })
        .await
        .unwrap();
    assert_eq!(replay.replayed, 1);
    assert_eq!(
        replay
            .failed
            .iter()
            .map(|(p, e)| (p.global_position, e.as_str()))
            .collect::<Vec<_>>(),
        vec![(1, "still broken")]
    );
    let left: Vec<i64> = ns
        .parked(&id)
        .await
        .unwrap()
        .iter()
        .map(|p| p.global_position)
        .collect();
    assert_eq!(left, vec![1]);
    assert_eq!(
        ns.settle_parked(&id, 2, Settled::Discarded)
            .await
            .map_err(|e| e.code()),
        Err("INVALID_REQUEST"),
        "2 is settled already"
    );
    assert_eq!(ns.discard_parked(&id).await.unwrap(), 1);
    assert!(ns.parked(&id).await.unwrap().is_empty());
    let kinds: Vec<String> = ns
        .get_stream("task:parked-worker", &Default::default())
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.message_type)
        .collect();
    assert_eq!(kinds, [PARKED, PARKED, REPLAYED, DISCARDED]);
}

/// Must hold 4, in one process: while one instance is active a second with the same identity
/// waits, hands out nothing, and takes over within the lease when the first stops, and again
/// when the next is dropped without stopping (a crash), resuming after the recorded position.
pub async fn one_instance_is_active_and_a_standby_takes_over(f: &Fixture) {
    let store = f.open().await;
    let ns = store.namespace("default");
    write_n(&ns, "job-1", 6).await;
    let lease = Duration::from_secs(1);
    let opts = ConsumerOpts::new("job", "runner").unwrap().lease(lease);
    let id = opts.id.clone();
    let mut active = ns.consumer(opts.clone()).open().await.unwrap();
    let mut handled = Vec::new();
    handled.extend(handle(&mut active, 3).await);
    let mut standby = tokio::spawn(ns.consumer(opts.clone()).open());
    let waited = tokio::time::timeout(3 * lease, &mut standby).await;
    assert!(waited.is_err(), "the standby waits while another is active");
    let info = active.info().await.unwrap();
    assert_eq!(
        (info.position, info.handled, info.lag, info.active),
        (Some(3), 3, 3, true)
    );
    active.stop().await.unwrap();
    let stopped = Instant::now();
    let mut taken = tokio::time::timeout(STEP, standby)
        .await
        .expect("the standby takes over")
        .unwrap()
        .unwrap();
    assert!(
        stopped.elapsed() <= lease,
        "took over in {:?}, more than the lease",
        stopped.elapsed()
    );
    handled.extend(handle(&mut taken, 2).await);
    assert_eq!(handled, vec![1, 2, 3, 4, 5], "resumed after the recorded 3");

    // A crash (dropped, nothing recorded since 3): the next instance hands out 4 again.
    let standby = tokio::spawn(ns.consumer(opts).open());
    drop(taken);
    let mut last = tokio::time::timeout(STEP, standby)
        .await
        .expect("the standby takes over after a crash")
        .unwrap()
        .unwrap();
    let m = next(&mut last).await;
    assert_eq!(m.global_position, 4, "at least once across a crash");
    assert_eq!(ns.consumer_position(&id).await.unwrap(), Some(3));
}

/// `Start::End` begins after the namespace's head when nothing is recorded; `info` reports the
/// position, head, lag (bounded count of the category after the position) and parked count.
pub async fn start_at_end_and_progress(f: &Fixture) {
    let store = f.open().await;
    let ns = store.namespace("default");
    write_n(&ns, "feed-1", 3).await;
    let opts = ConsumerOpts::new("feed", "tail").unwrap().start(Start::End);
    let id = opts.id.clone();
    let mut c = ns.consumer(opts).open().await.unwrap();
    write_n(&ns, "feed-2", 2).await;
    let mut handled = Vec::new();
    handled.extend(handle(&mut c, 2).await);
    assert_eq!(
        handled,
        vec![4, 5],
        "history before the start is not handed out"
    );
    let info = c.info().await.unwrap();
    assert_eq!(
        (
            info.position,
            info.head,
            info.lag,
            info.handled,
            info.parked
        ),
        (Some(5), 5, 0, 2, 0)
    );
    c.stop().await.unwrap();
    let recorded = ns
        .get_last(&id.position_stream(), Some(RECORDED))
        .await
        .unwrap()
        .unwrap();
    let info = ns.consumer_info(&id).await.unwrap();
    assert_eq!(
        (info.position, info.head, info.lag, info.active),
        (Some(5), recorded.global_position, 0, false)
    );
    let late = ConsumerOpts::new("feed", "late").unwrap().id;
    let info = ns.consumer_info(&late).await.unwrap();
    assert_eq!((info.position, info.lag), (None, 5));
}

/// Must hold 6: a consumer whose handler is stalled (a message handed out, not acknowledged)
/// never blocks writers, however far they run ahead (far past the live buffer), and then hands
/// out every message in order, read back from storage, recording as it goes.
pub async fn a_stalled_consumer_never_blocks_writers(f: &Fixture) {
    let store = f.open().await;
    let ns = store.namespace("default");
    write_n(&ns, "load-0", 1).await;
    let opts = ConsumerOpts::new("load", "slow").unwrap();
    let id = opts.id.clone();
    let mut c = ns.consumer(opts).open().await.unwrap();
    let first = next(&mut c).await;
    let n = 3000;
    tokio::time::timeout(Duration::from_secs(60), async {
        for i in 0..n {
            ns.write(
                &format!("load-{}", i % 10),
                msg("Done", json!({ "i": i })),
                WriteOpts::default(),
            )
            .await
            .unwrap();
        }
    })
    .await
    .expect("writers are never blocked by a stalled consumer");
    c.ack(&first).await.unwrap();
    let rest = handle(&mut c, n).await;
    let in_order: Vec<i64> = ns
        .get_category(
            "load",
            &messagedb::CategoryOpts::default()
                .position(2)
                .batch_size(-1),
        )
        .await
        .unwrap()
        .iter()
        .map(|m| m.global_position)
        .collect();
    assert_eq!(rest, in_order, "every message, in order, none skipped");
    c.stop().await.unwrap();
    assert_eq!(
        ns.consumer_position(&id).await.unwrap(),
        rest.last().copied()
    );
}
