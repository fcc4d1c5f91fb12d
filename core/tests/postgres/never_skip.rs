//! The never-skip guarantee with slow and parallel transactions of other clients and processes.

use super::*;

/// A Message DB client's write to `stream` through `write_message`, in a transaction left open
/// on `conn`; returns the position it took.
async fn hold_open_write(conn: &mut PgConnection, stream: &str) -> i64 {
    conn.execute("SET search_path TO message_store")
        .await
        .unwrap();
    conn.execute("BEGIN").await.unwrap();
    sqlx::query_scalar("SELECT write_message($1, $2, 'Slow', '{}')")
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(stream)
        .fetch_one(conn)
        .await
        .unwrap()
}

/// A Message DB client's write held open in another connection (holding global position 2) holds
/// up messagedb's writes to its category but not those to other categories (through the same
/// store), and no whole-namespace reader sees past it
/// before it commits: category "" reads wait for it, a poller and the whole-namespace subscription
/// get every position once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readers_never_skip_past_a_slow_transaction() {
    let url = pg::fresh_database().await;
    let store = Store::open(&url).await.unwrap();
    let ns = store.namespace("default");
    ns.write("warm-1", msg("T", json!({})), WriteOpts::default())
        .await
        .unwrap();
    let mut sub = ns.subscribe(SubscribeOpts::all()).await.unwrap();
    assert_eq!(next(&mut sub).await.global_position, 1);

    let mut slow = sql(&url).await;
    let key: i64 = sqlx::query_scalar("SELECT message_store.messagedb_namespace_lock()")
        .fetch_one(&mut slow)
        .await
        .unwrap();
    assert_eq!(
        key,
        messagedb::hash_64("messagedb:message_store"),
        "the schema's namespace lock is the one core waits on"
    );
    let position = hold_open_write(&mut slow, "slow-1").await;
    assert_eq!(position, 0);
    let held: i64 =
        sqlx::query_scalar("SELECT global_position FROM messages WHERE stream_name = 'slow-1'")
            .fetch_one(&mut slow)
            .await
            .unwrap();
    assert_eq!(held, 2);

    // A poller reading category "" the whole time.
    let poller_ns = ns.clone();
    let poller = tokio::spawn(async move {
        let mut next_gp = 1;
        while next_gp <= 206 {
            let page = poller_ns
                .get_category("", &CategoryOpts::default().position(next_gp))
                .await
                .unwrap();
            for m in &page {
                assert_eq!(
                    m.global_position, next_gp,
                    "category \"\" never skips a position"
                );
                next_gp += 1;
            }
            tokio::task::yield_now().await;
        }
    });
    // A messagedb write to the same category waits for the slow transaction's lock...
    let same_category = {
        let ns = ns.clone();
        tokio::spawn(async move {
            ns.write("slow-2", msg("AfterSlow", json!({})), WriteOpts::default())
                .await
                .unwrap()
        })
    };
    let mut watcher = sql(&url).await;
    let waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'";
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while sqlx::query_scalar::<_, i64>(waiting)
        .fetch_one(&mut watcher)
        .await
        .unwrap()
        == 0
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the write to slow-2 waits for the lock"
        );
        tokio::task::yield_now().await;
    }
    // More writes to that category queue behind it, in this process...
    let more_same: Vec<_> = (3..=5)
        .map(|i| {
            let ns = ns.clone();
            tokio::spawn(async move {
                ns.write(
                    &format!("slow-{i}"),
                    msg("AfterSlow", json!({})),
                    WriteOpts::default(),
                )
                .await
                .unwrap()
            })
        })
        .collect();
    // ...while writers of other categories go on, through the same store.
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let ns = ns.clone();
            tokio::spawn(async move {
                for i in 0..25 {
                    ns.write(
                        &format!("fast{w}-{i}"),
                        msg("Fast", json!({})),
                        WriteOpts::default(),
                    )
                    .await
                    .unwrap();
                }
            })
        })
        .collect();
    tokio::time::timeout(Duration::from_secs(30), async {
        for w in writers {
            w.await.unwrap();
        }
    })
    .await
    .expect("writers of other categories are not held up by the open transaction");
    let fast = ns
        .get_category("fast0", &CategoryOpts::default())
        .await
        .unwrap();
    assert_eq!(fast.len(), 25, "category reads are not held up either");
    let waiters: i64 = sqlx::query_scalar(waiting)
        .fetch_one(&mut watcher)
        .await
        .unwrap();
    assert_eq!(
        waiters, 1,
        "no second call is sent into the blocked category (it would hold a connection and a leader)"
    );
    // Positions 3..=202 are committed; none of them may be read before 2.
    let read = tokio::time::timeout(
        Duration::from_millis(300),
        ns.get_category("", &CategoryOpts::default().position(2)),
    )
    .await;
    assert!(
        read.is_err(),
        "a category \"\" read waits for position 2: {read:?}"
    );
    let live = tokio::time::timeout(Duration::from_millis(300), next(&mut sub)).await;
    assert!(
        live.is_err(),
        "the subscription waits for position 2: {live:?}"
    );
    assert!(!poller.is_finished());
    assert!(!same_category.is_finished());

    slow.execute("COMMIT").await.unwrap();
    let after = tokio::time::timeout(Duration::from_secs(30), same_category)
        .await
        .expect("the write to the slow category lands once it commits")
        .unwrap();
    assert_eq!(after.global_position, 203);
    for w in more_same {
        let landed = tokio::time::timeout(Duration::from_secs(30), w)
            .await
            .expect("the queued writes to the slow category land after it")
            .unwrap();
        assert!((204..=206).contains(&landed.global_position));
    }
    tokio::time::timeout(Duration::from_secs(30), poller)
        .await
        .expect("the poller reads everything once the transaction commits")
        .unwrap();
    let all = ns
        .get_category("", &CategoryOpts::default().position(2).batch_size(500))
        .await
        .unwrap();
    let gps: Vec<i64> = all.iter().map(|m| m.global_position).collect();
    assert_eq!(gps, (2..=206).collect::<Vec<_>>());
    assert_eq!(all[0].stream_name, "slow-1");
    assert_eq!(all[201].stream_name, "slow-2");
    for gp in 2..=206 {
        assert_eq!(
            next(&mut sub).await.global_position,
            gp,
            "the subscription never skips"
        );
    }
}

/// Two stores (as two processes) and a Message DB client write to different categories at once,
/// in parallel transactions whose commits land out of global-position order: a whole-namespace
/// subscription and a category "" poller of one store get every message exactly once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn whole_namespace_readers_keep_up_with_parallel_writers_of_several_processes() {
    const STORE_WRITERS: usize = 4;
    const WRITES: usize = 120;
    let url = pg::fresh_database().await;
    let here = Store::open(&url).await.unwrap();
    let there = Store::open(&url).await.unwrap();
    let ns = here.namespace("default");
    let mut sub = ns.subscribe(SubscribeOpts::all()).await.unwrap();
    let total = (2 * STORE_WRITERS + 1) * WRITES;

    let poller_ns = ns.clone();
    let poller = tokio::spawn(async move {
        let mut next_gp = 1;
        while next_gp <= total as i64 {
            let page = poller_ns
                .get_category("", &CategoryOpts::default().position(next_gp))
                .await
                .unwrap();
            for m in &page {
                assert_eq!(m.global_position, next_gp, "category \"\" never skips");
                next_gp += 1;
            }
            tokio::task::yield_now().await;
        }
    });
    let mut writers = Vec::new();
    for (s, store) in [&here, &there].into_iter().enumerate() {
        for w in 0..STORE_WRITERS {
            let ns = store.namespace("default");
            writers.push(tokio::spawn(async move {
                for i in 0..WRITES {
                    ns.write(
                        &format!("s{s}w{w}-{}", i % 7),
                        msg("Parallel", json!({"i": i})),
                        WriteOpts::default(),
                    )
                    .await
                    .unwrap();
                }
            }));
        }
    }
    let mut client = sql(&url).await;
    writers.push(tokio::spawn(async move {
        client
            .execute("SET search_path TO message_store")
            .await
            .unwrap();
        for i in 0..WRITES {
            sqlx::query("SELECT write_message($1, $2, 'Client', '{}')")
                .bind(uuid::Uuid::now_v7().to_string())
                .bind(format!("client-{}", i % 7))
                .execute(&mut client)
                .await
                .unwrap();
        }
    }));
    for w in writers {
        w.await.unwrap();
    }
    let mut seen = Vec::with_capacity(total);
    while seen.len() < total {
        seen.push(next(&mut sub).await.global_position);
    }
    assert_eq!(seen, (1..=total as i64).collect::<Vec<_>>());
    tokio::time::timeout(Duration::from_secs(30), poller)
        .await
        .expect("the poller reads every message")
        .unwrap();
}

/// The counts never skip either: a Message DB client's write held open (global position 2) while
/// messagedb's write after it (position 3) commits; `ns.info` brings the counts up to 3 only
/// after the held write ends, so the message that commits late is counted, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn counts_wait_for_a_write_that_commits_late() {
    let url = pg::fresh_database().await;
    let store = Store::open(&url).await.unwrap();
    let ns = store.namespace("default");
    ns.write("warm-1", msg("T", json!({})), WriteOpts::default())
        .await
        .unwrap();
    let mut slow = sql(&url).await;
    assert_eq!(hold_open_write(&mut slow, "slow-1").await, 0);
    let w = ns
        .write("fast-1", msg("T", json!({})), WriteOpts::default())
        .await
        .unwrap();
    assert_eq!(w.global_position, 3);

    let info = tokio::spawn({
        let store = store.clone();
        async move { store.namespace_info("default").await.unwrap() }
    });
    // The count waits: it polls the namespace lock's holders until the held write ends.
    let mut watch = sql(&url).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let polling: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
             WHERE query LIKE '%FROM pg_locks%' AND pid <> pg_backend_pid()",
        )
        .fetch_one(&mut watch)
        .await
        .unwrap();
        if polling > 0 {
            break;
        }
        assert!(
            !info.is_finished(),
            "the count finished with a write in flight"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "the count never waited"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(!info.is_finished());
    slow.execute("COMMIT").await.unwrap();
    let info = tokio::time::timeout(Duration::from_secs(10), info)
        .await
        .expect("the count ends once the write does")
        .unwrap();
    assert_eq!((info.message_count, info.stream_count), (3, 3));
    let categories: Vec<(String, i64)> = ns
        .list_categories()
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.category, c.message_count))
        .collect();
    assert_eq!(
        categories,
        [("fast".into(), 1), ("slow".into(), 1), ("warm".into(), 1)]
    );
}
