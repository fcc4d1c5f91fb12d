//! PostgreSQL only: Message DB compatibility of the namespace schema, opening an existing Message DB
//! schema, cross-process notifications, and the never-skip guarantee with a slow transaction held
//! open in another connection.

#[path = "../conformance/pg.rs"]
mod pg;

use std::time::Duration;

use messagedb::{
    CategoryOpts, ConsumerGroup, NewMessage, Store, StoreOptions, SubscribeOpts, Subscription,
    WriteOpts,
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

/// A store that looks for commits without a notification only once a minute: what wakes its
/// subscribers within a test is a notification.
async fn open_notified_only(url: &str) -> Store {
    let mut options = StoreOptions::default();
    options.external_poll = Some(Duration::from_secs(60));
    Store::open_with(url, options).await.unwrap()
}

/// LISTEN/NOTIFY: a subscription in this process receives writes made by another process.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_subscription_sees_writes_of_another_process() {
    let url = pg::fresh_database().await;
    let store = open_notified_only(&url).await;
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
    let other = open_notified_only(&url).await;
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

/// A Message DB client's `write_message` sends no notification; a subscription (and so a
/// consumer) still receives it, within the store's `external_poll`, with no messagedb write after
/// it. The held-open case (a commit that lands below the newest) is in `never_skip`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_subscription_sees_plain_sql_writes_without_a_notification() {
    let url = pg::fresh_database().await;
    let mut options = StoreOptions::default();
    options.external_poll = Some(Duration::from_millis(200));
    let store = Store::open_with(&url, options).await.unwrap();
    let ns = store.namespace("default");
    let mut category = ns
        .subscribe(SubscribeOpts::category("account"))
        .await
        .unwrap();
    let mut all = ns.subscribe(SubscribeOpts::all()).await.unwrap();
    let mut c = sql(&url).await;
    c.execute("SET search_path TO message_store").await.unwrap();
    for i in 0..3 {
        sqlx::query("SELECT write_message($1, 'account-1', 'FromSql', $2::jsonb)")
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(json!({ "i": i }).to_string())
            .execute(&mut c)
            .await
            .unwrap();
        for sub in [&mut category, &mut all] {
            let m = next(sub).await;
            assert_eq!(
                (m.message_type.as_str(), m.position, m.data.to_value()),
                ("FromSql", i, json!({ "i": i }))
            );
        }
    }
    // Nothing else arrives: a look that finds nothing new wakes no one.
    let quiet = tokio::time::timeout(Duration::from_millis(600), category.next()).await;
    assert!(quiet.is_err(), "no message beyond the three written");
}

mod calls;
mod consumers;
mod existing_schema;
mod never_skip;
