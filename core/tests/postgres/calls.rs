//! Write calls whose answer is lost, and calls that get no connection in time.

use super::*;

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
