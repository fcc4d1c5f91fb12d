//! The `message_store` role and the privileges Message DB grants it.

use super::*;

/// The SQLSTATE of a failing statement.
async fn refused(c: &mut PgConnection, statement: &str) -> String {
    match c.execute(AssertSqlSafe(statement.to_string())).await {
        Ok(_) => panic!("message_store may run {statement}"),
        Err(sqlx::Error::Database(e)) => e.code().unwrap_or_default().to_string(),
        Err(e) => panic!("unexpected error from {statement}: {e}"),
    }
}

/// A client connecting as `message_store`, with no settings of its own, finds the `default`
/// namespace's schema, writes and reads through Message DB's functions and reads the views; it
/// may not change or delete messages, nor touch the registry. Another namespace's schema grants
/// it the same, once the client sets its search_path there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_message_store_role_uses_message_db_functions_and_nothing_else() {
    within(async {
        let db = TestDb::create(None).await;
        let store = Store::open(&db.url()).await.unwrap();
        store
            .create_namespace("other", Default::default())
            .await
            .unwrap();
        let ns = store.namespace("default");
        ns.write("account-1", msg("Opened", json!({})), WriteOpts::default())
            .await
            .unwrap();

        let (login, superuser): (bool, bool) = sqlx::query_as(
            "SELECT rolcanlogin, rolsuper FROM pg_roles WHERE rolname = 'message_store'",
        )
        .fetch_one(&mut connect(&db.url()).await)
        .await
        .expect("the role message_store exists");
        assert!(login && !superuser);

        let mut c = PgConnection::connect(&db.url_as("message_store"))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "connect as message_store (the test server must trust local TCP \
                     connections, as scripts/pg.sh sets it up): {e}"
                )
            });
        let schema: String = sqlx::query_scalar("SELECT current_schema()::text")
            .fetch_one(&mut c)
            .await
            .unwrap();
        assert_eq!(schema, "message_store", "the role's search_path");

        // Allowed: Message DB's interface.
        assert_eq!(write_message(&mut c, "account-1", "Deposited").await, 1);
        assert_eq!(write_message(&mut c, "account-2", "Opened").await, 0);
        let stream: Vec<(String, i64)> = sqlx::query_as(
            "SELECT type, position FROM get_stream_messages('account-1') ORDER BY position",
        )
        .fetch_all(&mut c)
        .await
        .unwrap();
        assert_eq!(
            stream,
            vec![("Opened".into(), 0), ("Deposited".into(), 1)]
        );
        let category: Vec<(String, i64)> = sqlx::query_as(
            "SELECT stream_name, global_position FROM get_category_messages('account', 1, -1, NULL, 0, 1)
             UNION ALL SELECT stream_name, global_position FROM get_category_messages('account', 1, -1, NULL, 1, 2)
             UNION ALL SELECT stream_name, global_position FROM get_category_messages('account', 1, -1, NULL, 0, 2)
             ORDER BY 2",
        )
        .fetch_all(&mut c)
        .await
        .unwrap();
        assert_eq!(category.len(), 6, "all of them once as a group of 1, once as a group of 2");
        let last: String =
            sqlx::query_scalar("SELECT type FROM get_last_stream_message('account-1', 'Opened')")
                .fetch_one(&mut c)
                .await
                .unwrap();
        assert_eq!(last, "Opened");
        let scalars: (Option<i64>, String, String, Option<String>, bool, i64) = sqlx::query_as(
            "SELECT stream_version('account-1'), message_store_version(), category('account-1'),
                    cardinal_id('account-1+x'), is_category('account'), hash_64('account')",
        )
        .fetch_one(&mut c)
        .await
        .unwrap();
        assert_eq!(
            scalars,
            (
                Some(1),
                "1.3.0".into(),
                "account".into(),
                Some("1".into()),
                true,
                messagedb::hash_64("account")
            )
        );
        let _lock: i64 = sqlx::query_scalar("SELECT acquire_lock('account-1')")
            .fetch_one(&mut c)
            .await
            .unwrap();
        for view in [
            "stream_summary",
            "type_summary",
            "stream_type_summary",
            "type_stream_summary",
            "category_type_summary",
            "type_category_summary",
        ] {
            let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT sum(message_count)::bigint FROM {view}"
            )))
            .fetch_one(&mut c)
            .await
            .unwrap_or_else(|e| panic!("message_store reads {view}: {e}"));
            assert_eq!(n, 3, "{view}");
        }
        let direct: i64 = sqlx::query_scalar("SELECT count(*) FROM messages")
            .fetch_one(&mut c)
            .await
            .unwrap();
        assert_eq!(direct, 3);
        // messagedb sees what the role wrote.
        let seen = ns
            .get_stream("account-1", &GetStreamOpts::default())
            .await
            .unwrap();
        assert_eq!(seen.len(), 2);

        // Refused: changing history, the schema, and the registry (not even readable).
        let denied = "42501";
        for statement in [
            "UPDATE messages SET type = 'Forged'",
            "DELETE FROM messages",
            "TRUNCATE messages",
            "CREATE TABLE message_store.intruder (x int)",
            "DROP VIEW stream_summary",
            "SELECT setval('messages_global_position_seq', 1000)",
            "SELECT * FROM messagedb.namespaces",
            "INSERT INTO messagedb.namespaces (id, schema_name, created_at) VALUES ('evil', 'public', now())",
            "UPDATE messagedb.namespaces SET token_sha256 = NULL",
            "DELETE FROM messagedb.namespaces",
            "INSERT INTO messagedb.migrations (version, name) VALUES (99, 'evil')",
        ] {
            assert_eq!(refused(&mut c, statement).await, denied, "{statement}");
        }

        // Another namespace: the same grants, in its own schema.
        let other = schema_of(&mut connect(&db.url()).await, "other").await;
        c.execute(AssertSqlSafe(format!(
            "SET search_path TO {}",
            quoted(&other)
        )))
        .await
        .unwrap();
        assert_eq!(write_message(&mut c, "task-1", "Queued").await, 0);
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM get_category_messages('task')")
            .fetch_one(&mut c)
            .await
            .unwrap();
        assert_eq!(n, 1);
        assert_eq!(
            refused(&mut c, &format!("DELETE FROM {}.messages", quoted(&other))).await,
            denied
        );
        let tasks = store
            .namespace("other")
            .get_category("task", &CategoryOpts::default())
            .await
            .unwrap();
        assert_eq!(tasks.len(), 1);
        assert_eq!(
            ns.get_category("task", &CategoryOpts::default())
                .await
                .unwrap()
                .len(),
            0
        );

        c.close().await.unwrap();
        store.close().await;
        db.drop().await;
    })
    .await;
}
