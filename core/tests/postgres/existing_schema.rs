//! Opening an existing Message DB schema, as the default namespace or by `?schema=`.

use super::*;

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
