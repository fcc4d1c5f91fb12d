//! PostgreSQL only: Message DB compatibility of the namespace schema, opening an existing Message DB
//! schema, cross-process notifications, and the never-skip guarantee with a slow transaction held
//! open in another connection.

#[path = "conformance/pg.rs"]
mod pg;

use std::time::Duration;

use messagedb::{
    CategoryOpts, ConsumerGroup, NewMessage, Store, SubscribeOpts, Subscription, WriteOpts,
};
use serde_json::json;
use sqlx::{Connection, Executor, PgConnection, Row};

async fn sql(url: &str) -> PgConnection {
    PgConnection::connect(url).await.expect("connect")
}

async fn next(sub: &mut Subscription) -> messagedb::Message {
    tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .expect("a message within 10 s")
        .expect("open")
        .expect("no error")
}

fn msg(t: &str, data: serde_json::Value) -> NewMessage {
    NewMessage::new(t, data).unwrap()
}

/// The SQL error text of a failing statement.
async fn sql_error(conn: &mut PgConnection, statement: &str) -> String {
    match conn
        .execute(sqlx::AssertSqlSafe(statement.to_string()))
        .await
    {
        Ok(_) => panic!("expected an error from {statement}"),
        Err(sqlx::Error::Database(e)) => e.message().to_string(),
        Err(e) => panic!("unexpected error {e}"),
    }
}

/// A Message DB client (search_path = message_store, the default namespace's schema) and
/// messagedb see the same data, and the functions answer as Message DB's do.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn message_db_functions_match_the_messagedb_api() {
    let url = pg::fresh_database().await;
    let store = Store::open(&url).await.unwrap();
    let ns = store.namespace("default");
    let mut c = sql(&url).await;
    c.execute("SET search_path TO message_store").await.unwrap();

    // Writes from both sides interleave in one stream.
    let p: i64 = sqlx::query_scalar(
        "SELECT write_message($1, 'account-123', 'Opened', '{\"n\": 0}', NULL, -1)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .fetch_one(&mut c)
    .await
    .unwrap();
    assert_eq!(p, 0);
    let w = ns
        .write(
            "account-123",
            msg("Deposited", json!({"n": 1})),
            WriteOpts::expect(0),
        )
        .await
        .unwrap();
    assert_eq!(w.position, 1);
    let p: i64 = sqlx::query_scalar("SELECT write_message($1, 'account-123', 'Deposited', '{\"n\": 2}', '{\"correlationStreamName\": \"billing-9\"}', 1)")
        .bind(uuid::Uuid::now_v7().to_string())
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(p, 2);
    let e = sql_error(
        &mut c,
        &format!(
            "SELECT write_message('{}', 'account-123', 'X', '{{}}', NULL, 0)",
            uuid::Uuid::now_v7()
        ),
    )
    .await;
    assert_eq!(
        e,
        "Wrong expected version: 0 (Stream: account-123, Stream Version: 2)"
    );
    for (stream, t) in [
        ("account-456", "Opened"),
        ("user-abc", "Registered"),
        ("order-7f3c2a", "Placed"),
        ("account-123+retry", "Retried"),
    ] {
        ns.write(stream, msg(t, json!({"s": stream})), WriteOpts::default())
            .await
            .unwrap();
    }

    // get_stream_messages == get_stream.
    let rows = sqlx::query("SELECT id, stream_name, type, position, global_position, data, metadata, time FROM get_stream_messages('account-123', 1, 10)")
        .fetch_all(&mut c)
        .await
        .unwrap();
    let ours = ns
        .get_stream(
            "account-123",
            &messagedb::GetStreamOpts::default()
                .position(1)
                .batch_size(10),
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), ours.len());
    for (r, m) in rows.iter().zip(&ours) {
        assert_eq!(r.get::<String, _>(0), m.id.to_string());
        assert_eq!(r.get::<String, _>(1), m.stream_name);
        assert_eq!(r.get::<String, _>(2), m.message_type);
        assert_eq!(
            (r.get::<i64, _>(3), r.get::<i64, _>(4)),
            (m.position, m.global_position)
        );
        let data: serde_json::Value = serde_json::from_str(&r.get::<String, _>(5)).unwrap();
        assert_eq!(data, m.data.to_value());
        assert_eq!(r.get::<chrono::NaiveDateTime, _>(7).and_utc(), m.time);
    }

    // get_category_messages == get_category, with correlation and consumer groups.
    let gps = |rows: Vec<sqlx::postgres::PgRow>| {
        rows.iter().map(|r| r.get::<i64, _>(0)).collect::<Vec<_>>()
    };
    let ours_gps =
        |ms: Vec<messagedb::Message>| ms.iter().map(|m| m.global_position).collect::<Vec<_>>();
    let all = sqlx::query("SELECT global_position FROM get_category_messages('account')")
        .fetch_all(&mut c)
        .await
        .unwrap();
    assert_eq!(
        gps(all),
        ours_gps(
            ns.get_category("account", &CategoryOpts::default())
                .await
                .unwrap()
        )
    );
    let corr = sqlx::query(
        "SELECT global_position FROM get_category_messages('account', 1, 1000, 'billing')",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    let ours_corr = ns
        .get_category("account", &CategoryOpts::default().correlation("billing"))
        .await
        .unwrap();
    assert_eq!(ours_corr.len(), 1);
    assert_eq!(gps(corr), ours_gps(ours_corr));
    for size in 1..=5 {
        for member in 0..size {
            for category in ["account", "user", "order"] {
                let rows = sqlx::query(
                    "SELECT global_position FROM get_category_messages($1, 1, -1, NULL, $2, $3)",
                )
                .bind(category)
                .bind(member)
                .bind(size)
                .fetch_all(&mut c)
                .await
                .unwrap();
                let opts = CategoryOpts::default()
                    .batch_size(-1)
                    .consumer_group(ConsumerGroup::new(member, size).unwrap());
                assert_eq!(
                    gps(rows),
                    ours_gps(ns.get_category(category, &opts).await.unwrap()),
                    "{category} {member}/{size}"
                );
            }
        }
    }
    let batch = sqlx::query("SELECT global_position FROM get_category_messages('account', 2, 2)")
        .fetch_all(&mut c)
        .await
        .unwrap();
    assert_eq!(
        gps(batch),
        ours_gps(
            ns.get_category(
                "account",
                &CategoryOpts::default().position(2).batch_size(2)
            )
            .await
            .unwrap()
        )
    );

    // get_last_stream_message and stream_version.
    let last: String =
        sqlx::query_scalar("SELECT type FROM get_last_stream_message('account-123')")
            .fetch_one(&mut c)
            .await
            .unwrap();
    assert_eq!(
        last,
        ns.get_last("account-123", None)
            .await
            .unwrap()
            .unwrap()
            .message_type
    );
    let last_opened: i64 =
        sqlx::query_scalar("SELECT position FROM get_last_stream_message('account-123', 'Opened')")
            .fetch_one(&mut c)
            .await
            .unwrap();
    assert_eq!(
        last_opened,
        ns.get_last("account-123", Some("Opened"))
            .await
            .unwrap()
            .unwrap()
            .position
    );
    let v: Option<i64> = sqlx::query_scalar("SELECT stream_version('account-123')")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(v, ns.stream_version("account-123").await.unwrap());
    let none: Option<i64> = sqlx::query_scalar("SELECT stream_version('nobody-1')")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(none, None);

    // Stream-name functions and hash_64 agree with the Rust ones.
    for name in [
        "account-123",
        "account-123+retry",
        "account",
        "a-b-c",
        "user-abc",
        "order-7f3c2a",
        "",
        "x-",
    ] {
        let r = sqlx::query(
            "SELECT category($1), id($1), cardinal_id($1), is_category($1), hash_64($1)",
        )
        .bind(name)
        .fetch_one(&mut c)
        .await
        .unwrap();
        assert_eq!(r.get::<String, _>(0), messagedb::category(name), "{name}");
        assert_eq!(
            r.get::<Option<String>, _>(1).as_deref(),
            messagedb::id(name),
            "{name}"
        );
        assert_eq!(
            r.get::<Option<String>, _>(2).as_deref(),
            messagedb::cardinal_id(name),
            "{name}"
        );
        assert_eq!(r.get::<bool, _>(3), messagedb::is_category(name), "{name}");
        assert_eq!(r.get::<i64, _>(4), messagedb::hash_64(name), "{name}");
    }
    let lock: i64 = sqlx::query_scalar("SELECT acquire_lock('account-1')")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(lock, messagedb::hash_64("account"));
    let version: String = sqlx::query_scalar("SELECT message_store_version()")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(version, "1.3.0");

    // Message DB's error messages.
    let cases = [
        (
            "SELECT * FROM get_stream_messages('account')",
            "Must be a stream name: account",
        ),
        (
            "SELECT * FROM get_category_messages('account-1')",
            "Must be a category: account-1",
        ),
        (
            "SELECT * FROM get_category_messages('account', 1, 10, 'billing-1')",
            "Correlation must be a category (Correlation: billing-1)",
        ),
        (
            "SELECT * FROM get_category_messages('account', 1, 10, NULL, 1, NULL)",
            "Consumer group member and size must be specified (Consumer Group Member: 1, Consumer Group Size: <NULL>)",
        ),
        (
            "SELECT * FROM get_category_messages('account', 1, 10, NULL, 0, 0)",
            "Consumer group size must not be less than 1 (Consumer Group Member: 0, Consumer Group Size: 0)",
        ),
        (
            "SELECT * FROM get_category_messages('account', 1, 10, NULL, -1, 2)",
            "Consumer group member must not be less than 0 (Consumer Group Member: -1, Consumer Group Size: 2)",
        ),
        (
            "SELECT * FROM get_category_messages('account', 1, 10, NULL, 2, 2)",
            "Consumer group member must be less than the group size (Consumer Group Member: 2, Consumer Group Size: 2)",
        ),
        (
            "SELECT * FROM get_stream_messages('account-1', 0, 10, 'true')",
            "Retrieval with SQL condition is not activated",
        ),
    ];
    for (statement, message) in cases {
        assert_eq!(sql_error(&mut c, statement).await, message, "{statement}");
    }
    // With the setting on (a client's own choice), a condition filters.
    c.execute("SET message_store.sql_condition TO on")
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM get_stream_messages('account-123', 0, 10, 'type = ''Opened''')",
    )
    .fetch_one(&mut c)
    .await
    .unwrap();
    assert_eq!(n, 1);
    // A null position and batch size fall back to the defaults.
    let n: i64 =
        sqlx::query_scalar("SELECT count(*) FROM get_stream_messages('account-123', NULL, NULL)")
            .fetch_one(&mut c)
            .await
            .unwrap();
    assert_eq!(n, 3);
}

/// Writes a Message DB schema (`schema`) with messages into a fresh database, as an existing
/// Message DB installation would be, without messagedb.
async fn existing_message_db(schema: &str) -> (String, Vec<(String, i64, i64)>) {
    let url = pg::fresh_database().await;
    let mut c = sql(&url).await;
    c.execute(sqlx::AssertSqlSafe(format!(
        "CREATE SCHEMA {schema}; SET search_path TO {schema}"
    )))
    .await
    .unwrap();
    c.execute(sqlx::AssertSqlSafe(
        messagedb::migrations::POSTGRES_NAMESPACE[0].sql,
    ))
    .await
    .unwrap();
    for i in 0..30 {
        sqlx::query("SELECT write_message($1, $2, 'Legacy', $3::jsonb)")
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(format!("legacy{}-{}", i % 3, i % 5))
            .bind(format!("{{\"i\": {i}}}"))
            .execute(&mut c)
            .await
            .unwrap();
    }
    let rows = sqlx::query(
        "SELECT stream_name, position, global_position FROM messages ORDER BY global_position",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    (
        url,
        rows.iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect(),
    )
}

async fn checksum(url: &str, schema: &str) -> String {
    let mut c = sql(url).await;
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT md5(string_agg(global_position || ':' || position || ':' || stream_name || ':' || type || ':' || data::text || ':' || id || ':' || time, ',' ORDER BY global_position)) FROM {schema}.messages"
    )))
    .fetch_one(&mut c)
    .await
    .unwrap()
}

/// `postgres://…` serves an existing `message_store` schema as the default namespace, and
/// `?schema=` another one, without altering their data.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn opens_an_existing_message_db_schema_as_default() {
    for (schema, param) in [
        ("message_store", ""),
        ("legacy_store", "?schema=legacy_store"),
    ] {
        let (url, rows) = existing_message_db(schema).await;
        let before = checksum(&url, schema).await;
        let store = Store::open(&format!("{url}{param}")).await.unwrap();
        assert_eq!(
            checksum(&url, schema).await,
            before,
            "opening alters no data"
        );
        let ns = store.namespace("default");
        let all = ns
            .get_category("", &CategoryOpts::default().batch_size(-1))
            .await
            .unwrap();
        let seen: Vec<(String, i64, i64)> = all
            .iter()
            .map(|m| (m.stream_name.clone(), m.position, m.global_position))
            .collect();
        assert_eq!(seen, rows);
        assert_eq!(
            ns.get_category("legacy1", &CategoryOpts::default())
                .await
                .unwrap()
                .len(),
            10
        );
        let info = store.namespace_info("default").await.unwrap();
        assert_eq!(info.message_count, 30);
        // Writes continue the existing streams and global positions.
        let w = ns
            .write("legacy0-0", msg("New", json!({})), WriteOpts::expect(1))
            .await
            .unwrap();
        assert_eq!((w.position, w.global_position), (2, 31));
        store.close().await;
        // Reopening (migrations already applied) is a no-op too.
        let again = Store::open(&format!("{url}{param}")).await.unwrap();
        assert_eq!(
            again
                .namespace("default")
                .stream_version("legacy0-0")
                .await
                .unwrap(),
            Some(2)
        );
        // The adopted schema has every function a fresh namespace has.
        again
            .create_namespace("fresh", Default::default())
            .await
            .unwrap();
        let mut c = sql(&url).await;
        let functions = |s: &str| {
            sqlx::query_scalar::<_, String>("SELECT string_agg(p.proname, ',' ORDER BY p.proname) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1")
                .bind(s.to_string())
        };
        let adopted = functions(schema).fetch_one(&mut c).await.unwrap();
        let fresh_schema: String =
            sqlx::query_scalar("SELECT schema_name FROM messagedb.namespaces WHERE id = 'fresh'")
                .fetch_one(&mut c)
                .await
                .unwrap();
        let fresh = functions(&fresh_schema).fetch_one(&mut c).await.unwrap();
        assert_eq!(adopted, fresh);
        assert!(fresh.contains("write_message") && fresh.contains("messagedb_write"));
    }
    let e = Store::open(&format!("{}?schema=bad;drop", pg::database_url("postgres")))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "INVALID_REQUEST");
}

/// Run by `a_subscription_sees_writes_of_another_process` in a child process: writes to the
/// database of MESSAGEDB_CHILD_URL.
#[tokio::test]
#[ignore = "runs only as the child process of a_subscription_sees_writes_of_another_process"]
async fn child_process_writer() {
    let url = std::env::var("MESSAGEDB_CHILD_URL").expect("MESSAGEDB_CHILD_URL");
    let store = Store::open(&url).await.unwrap();
    for i in 0..5 {
        store
            .namespace("default")
            .write(
                "remote-1",
                msg("FromChild", json!({"i": i})),
                WriteOpts::default(),
            )
            .await
            .unwrap();
    }
}

/// LISTEN/NOTIFY: a subscription in this process receives writes made by another process.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_subscription_sees_writes_of_another_process() {
    let url = pg::fresh_database().await;
    let store = Store::open(&url).await.unwrap();
    let ns = store.namespace("default");
    let mut sub = ns
        .subscribe(SubscribeOpts::category("remote"))
        .await
        .unwrap();
    let mut local = ns
        .subscribe(SubscribeOpts::category("local"))
        .await
        .unwrap();
    // Live before the child starts: nothing in history.
    let status = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_process_writer", "--ignored", "--quiet"])
        .env("MESSAGEDB_CHILD_URL", &url)
        .status()
        .await
        .unwrap();
    assert!(status.success());
    for i in 0..5 {
        let m = next(&mut sub).await;
        assert_eq!(
            (m.message_type.as_str(), m.position, m.data.to_value()),
            ("FromChild", i, json!({"i": i}))
        );
    }
    // A second store in this process is another client of the database too.
    let other = Store::open(&url).await.unwrap();
    let started = std::time::Instant::now();
    other
        .namespace("default")
        .write("local-1", msg("Other", json!({})), WriteOpts::default())
        .await
        .unwrap();
    assert_eq!(next(&mut local).await.message_type, "Other");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "woken by the notification, not by polling"
    );
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
    slow.execute("SET search_path TO message_store")
        .await
        .unwrap();
    slow.execute("BEGIN").await.unwrap();
    let position: i64 = sqlx::query_scalar("SELECT write_message($1, 'slow-1', 'Slow', '{}')")
        .bind(uuid::Uuid::now_v7().to_string())
        .fetch_one(&mut slow)
        .await
        .unwrap();
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

/// A call of several writes that committed but whose answer could not be read (here: a row that
/// does not decode) is never run again: each message lands once, and each writer hears of the
/// failure. (Running the writes again alone, as for a call that rolled back, wrote them twice.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_committed_call_whose_answer_is_lost_is_not_written_again() {
    let url = pg::fresh_database().await;
    Store::open(&url).await.unwrap().close().await;
    let mut c = sql(&url).await;
    c.execute(
        "ALTER FUNCTION message_store.messagedb_write(bigint, bigint[], text[], bigint[], integer[], text[], text[], text[], uuid[], boolean)
             RENAME TO messagedb_write_real;
         CREATE FUNCTION message_store.messagedb_write(a bigint, b bigint[], c text[], d bigint[], e integer[], f text[], g text[], h text[], i uuid[], j boolean)
         RETURNS TABLE (write_index integer, first_position bigint, first_global_position bigint, last_global_position bigint,
                        error text, actual_version bigint, duplicate_id uuid, message_time timestamp)
         AS $$ SELECT r.write_index, r.first_position, r.first_global_position, r.last_global_position,
                      r.error, r.actual_version, r.duplicate_id, NULL::timestamp
               FROM message_store.messagedb_write_real(a, b, c, d, e, f, g, h, i, j) r $$ LANGUAGE sql;",
    )
    .await
    .unwrap();
    let store = Store::open(&url).await.unwrap();
    let ns = store.namespace("default");
    let writers: Vec<_> = (0..16)
        .map(|i| {
            let ns = ns.clone();
            tokio::spawn(async move {
                ns.write(
                    &format!("lost{i}-1"),
                    msg("Once", json!({})),
                    WriteOpts::default(),
                )
                .await
            })
        })
        .collect();
    for w in writers {
        let outcome = tokio::time::timeout(Duration::from_secs(30), w)
            .await
            .expect("every writer is answered within 30 s")
            .unwrap();
        assert_eq!(outcome.unwrap_err().code(), "BACKEND_ERROR");
    }
    let per_stream: Vec<(String, i64)> = sqlx::query_as(
        "SELECT stream_name, count(*) FROM message_store.messages GROUP BY stream_name ORDER BY 1",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    assert_eq!(
        per_stream.len(),
        16,
        "every write committed once: {per_stream:?}"
    );
    assert!(
        per_stream.iter().all(|(_, n)| *n == 1),
        "no message was written twice: {per_stream:?}"
    );
    store.close().await;
}

/// Pool size and connection wait come from the URL: with one connection held by a write stalled on
/// a lock, a read fails after the wait with a retryable BACKEND_ERROR instead of waiting forever,
/// and works again once the connection is free. Bad values are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_call_that_gets_no_connection_in_time_fails_retryably() {
    let url = pg::fresh_database().await;
    let store = Store::open(&format!("{url}?pool_size=1&acquire_timeout=0.3"))
        .await
        .unwrap();
    let ns = store.namespace("default");
    ns.write("held-1", msg("First", json!({})), WriteOpts::default())
        .await
        .unwrap();
    // Another session holds the category's lock: the next write waits for it on the one connection.
    let mut blocker = sql(&url).await;
    sqlx::query("SELECT pg_advisory_lock(message_store.hash_64('held'))")
        .execute(&mut blocker)
        .await
        .unwrap();
    let writer = {
        let ns = ns.clone();
        tokio::spawn(async move {
            ns.write("held-1", msg("Second", json!({})), WriteOpts::default())
                .await
        })
    };
    // The write holds the only connection once the lock is waited on.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
        )
        .fetch_one(&mut blocker)
        .await
        .unwrap();
        if waiting > 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the write never waited for the lock"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let started = std::time::Instant::now();
    let e = tokio::time::timeout(Duration::from_secs(10), ns.stream_version("held-1"))
        .await
        .expect("the read gives up within 10 s")
        .unwrap_err();
    assert_eq!(e.code(), "BACKEND_ERROR");
    assert!(e.is_retryable(), "{e}");
    assert!(e.to_string().contains("no connection within"), "{e}");
    assert!(started.elapsed() >= Duration::from_millis(250));
    sqlx::query("SELECT pg_advisory_unlock_all()")
        .execute(&mut blocker)
        .await
        .unwrap();
    let written = tokio::time::timeout(Duration::from_secs(10), writer)
        .await
        .expect("the write completes once the lock is free")
        .unwrap()
        .unwrap();
    assert_eq!(written.position, 1);
    assert_eq!(ns.stream_version("held-1").await.unwrap(), Some(1));
    store.close().await;
    for bad in [
        "pool_size=0",
        "pool_size=x",
        "acquire_timeout=0",
        "acquire_timeout=-1",
    ] {
        let e = Store::open(&format!("{url}?{bad}")).await.unwrap_err();
        assert_eq!(e.code(), "INVALID_REQUEST", "{bad}");
    }
}
