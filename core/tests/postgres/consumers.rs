//! Consumers on PostgreSQL (consumers.md, "Must hold" 5): the position stream is named as
//! Eventide names it and Message DB's `get_last_stream_message` reads the recorded position; a
//! position an Eventide consumer recorded with Message DB's `write_message` is where a messagedb
//! consumer resumes; the consumer lock is a session advisory lock that dies with its session.

use std::time::Duration;

use messagedb::consumer::ConsumerOpts;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn message_db_reads_and_writes_consumer_positions() {
    let url = pg::fresh_database().await;
    let store = Store::open(&url).await.unwrap();
    let ns = store.namespace("default");
    for i in 0..5 {
        ns.write(
            &format!("account-{i}"),
            msg("Opened", json!({})),
            WriteOpts::default(),
        )
        .await
        .unwrap();
    }
    let opts = ConsumerOpts::new("account", "projector")
        .unwrap()
        .lease(Duration::from_millis(500));
    let mut c = ns.consumer(opts.clone()).open().await.unwrap();
    for _ in 0..3 {
        let m = tokio::time::timeout(Duration::from_secs(10), c.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        c.ack(&m).await.unwrap();
    }
    c.stop().await.unwrap();

    let mut sql_conn = sql(&url).await;
    sql_conn
        .execute("SET search_path TO message_store")
        .await
        .unwrap();
    let row = sqlx::query(
        "SELECT type, data FROM get_last_stream_message('account:position-projector', 'Recorded')",
    )
    .fetch_one(&mut sql_conn)
    .await
    .unwrap();
    let (kind, data): (String, String) = (row.get(0), row.get(1));
    assert_eq!(kind, "Recorded");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&data).unwrap(),
        json!({"position": 3})
    );
    let category: String = sqlx::query_scalar("SELECT category('account:position-projector')")
        .fetch_one(&mut sql_conn)
        .await
        .unwrap();
    assert_eq!(category, "account:position");

    // An Eventide consumer records 4 the Message DB way; messagedb resumes after it.
    sqlx::query(
        "SELECT write_message($1, 'account:position-projector', 'Recorded', '{\"position\": 4}')",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .execute(&mut sql_conn)
    .await
    .unwrap();
    assert_eq!(ns.consumer_position(&opts.id).await.unwrap(), Some(4));
    let mut c = ns.consumer(opts.clone()).open().await.unwrap();
    let m = tokio::time::timeout(Duration::from_secs(10), c.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(m.global_position, 5);

    // The lock is a session advisory lock: ending the holder's session (as a dead process's
    // would end) lets a standby take over.
    let opts_id = opts.id.clone();
    // The lock's key (`locks.rs`): pg_locks shows a bigint key as its high and low 32 bits. Other
    // tests' databases and this one's writers hold advisory locks too.
    let key = messagedb::hash_64(&format!(
        "messagedb-consumer:message_store:{}",
        opts_id.position_stream()
    ));
    let standby = tokio::spawn(ns.consumer(opts).open());
    let holders: Vec<i32> = sqlx::query_scalar(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND classid::bigint = ($1 >> 32) & 4294967295 AND objid::bigint = $1 & 4294967295
           AND objsubid = 1",
    )
    .bind(key)
    .fetch_all(&mut sql_conn)
    .await
    .unwrap();
    assert_eq!(holders.len(), 1, "one session holds the consumer's lock");
    let ended: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(holders[0])
        .fetch_one(&mut sql_conn)
        .await
        .unwrap();
    assert!(ended);
    let mut taken = tokio::time::timeout(Duration::from_secs(10), standby)
        .await
        .expect("the standby takes over")
        .unwrap()
        .unwrap();
    let again = tokio::time::timeout(Duration::from_secs(10), taken.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        again.global_position, 5,
        "5 was not recorded: handed out again"
    );
    // The first instance finds its lock gone and hands out nothing more.
    c.ack(&m).await.unwrap();
    ns.write("account-9", msg("Opened", json!({})), WriteOpts::default())
        .await
        .unwrap();
    let lost = tokio::time::timeout(Duration::from_secs(10), c.next())
        .await
        .expect("the old instance answers within the deadline");
    assert_eq!(lost.map_err(|e| e.code()), Err("BACKEND_ERROR"));
    // The new instance handles on and stops; the old one's stop then records nothing over it.
    taken.ack(&again).await.unwrap();
    let newest = tokio::time::timeout(Duration::from_secs(10), taken.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(newest.stream_name, "account-9");
    taken.ack(&newest).await.unwrap();
    taken.stop().await.unwrap();
    c.stop().await.unwrap();
    assert_eq!(
        ns.consumer_position(&opts_id).await.unwrap(),
        Some(newest.global_position)
    );
}
