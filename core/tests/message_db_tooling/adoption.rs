//! An adopted Message DB schema keeps its own tooling; upgraded and fresh schemas are alike; a user without CREATEROLE opens a store.

use super::*;

/// Every function, table, sequence and view of `schema` with its definition and privileges, and
/// the schema's privileges; the schema's name written `message_store` (the default namespace's),
/// so that two schemas compare.
async fn shape(c: &mut PgConnection, schema: &str, skip: &[&str]) -> Vec<String> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT 'function ' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
                pg_get_functiondef(p.oid) || ' acl ' || coalesce(p.proacl::text, 'default')
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1
         UNION ALL
         SELECT 'relation ' || c.relname || ' ' || c.relkind::text,
                coalesce(pg_get_viewdef(c.oid), '') || ' acl ' || coalesce(c.relacl::text, 'default')
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND c.relkind IN ('r', 'v', 'S')
         UNION ALL
         SELECT 'schema', coalesce(nspacl::text, 'default') FROM pg_namespace WHERE nspname = $1
         ORDER BY 1",
    )
    .bind(schema)
    .fetch_all(c)
    .await
    .unwrap();
    rows.into_iter()
        .filter(|(name, _)| {
            !skip.iter().any(|s| {
                name.starts_with(&format!("function {s}("))
                    || name.starts_with(&format!("relation {s} "))
            })
        })
        .map(|(name, def)| {
            let def = def.replace(&quoted(schema), "message_store");
            format!("{name}: {}", def.replace(schema, "message_store"))
        })
        .collect()
}

/// What messagedb adds to an adopted schema: its write path, and its counts and stream list
/// (migration 0005).
const MESSAGEDB_OWN: &[&str] = &[
    "messagedb_write",
    "messagedb_count",
    "messagedb_count_deleted",
    "messagedb_categories",
    "messagedb_streams",
    "messagedb_counted",
];

/// Fails naming the first object whose definition differs (the whole lists are long).
fn same_shape(left: &[String], right: &[String]) {
    for (l, r) in left.iter().zip(right) {
        assert_eq!(l, r);
    }
    assert_eq!(left.len(), right.len(), "{left:#?}\n{right:#?}");
}

/// A Message DB installation's schema, as Message DB 1.3's install leaves it, without messagedb:
/// 0001's table and functions minus messagedb's namespace lock, six report views and the grants
/// to role `message_store` (created if missing, as Message DB's install does). The views are
/// written differently from 0003's (`count(*)`), so that a replacement would show.
async fn message_db_installation(url: &str) {
    let mut c = connect(url).await;
    c.execute("CREATE SCHEMA message_store; SET search_path TO message_store")
        .await
        .unwrap();
    let ours = messagedb::migrations::POSTGRES_NAMESPACE[0].sql;
    let lock_call = "PERFORM pg_advisory_xact_lock_shared(messagedb_namespace_lock());";
    let lock_function = ours
        .find("DO $$")
        .and_then(|start| {
            ours[start..]
                .find("$$;\n")
                .map(|end| start..start + end + 4)
        })
        .expect("0001 creates messagedb_namespace_lock in a DO block");
    assert!(ours.contains(lock_call));
    assert!(ours[lock_function.clone()].contains("messagedb_namespace_lock"));
    let message_db = format!(
        "{}{}",
        &ours[..lock_function.start],
        &ours[lock_function.end..]
    )
    .replace(lock_call, "");
    c.execute(AssertSqlSafe(message_db)).await.unwrap();
    c.execute(
        "DO $$ BEGIN CREATE ROLE message_store WITH LOGIN;
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
    )
    .await
    .unwrap();
    for (view, keys, select) in [
        ("stream_summary", "stream_name", "stream_name"),
        ("type_summary", "type", "type"),
        (
            "stream_type_summary",
            "stream_name, type",
            "stream_name, type",
        ),
        (
            "type_stream_summary",
            "type, stream_name",
            "type, stream_name",
        ),
        (
            "category_type_summary",
            "category, type",
            "category(stream_name) AS category, type",
        ),
        (
            "type_category_summary",
            "type, category",
            "type, category(stream_name) AS category",
        ),
    ] {
        c.execute(AssertSqlSafe(format!(
            "CREATE VIEW {view} AS
             WITH counts AS (SELECT {select}, count(*) AS message_count FROM messages GROUP BY {keys}),
                  total AS (SELECT count(*)::decimal AS total_count FROM messages)
             SELECT {keys}, message_count, round((message_count / total_count) * 100, 2) AS percent
             FROM counts, total ORDER BY {keys};
             GRANT SELECT ON {view} TO message_store"
        )))
        .await
        .unwrap();
    }
    c.execute(
        "GRANT USAGE ON SCHEMA message_store TO message_store;
         GRANT SELECT, INSERT ON messages TO message_store;
         GRANT USAGE, SELECT ON SEQUENCE messages_global_position_seq TO message_store;
         GRANT EXECUTE ON FUNCTION write_message(varchar, varchar, varchar, jsonb, jsonb, bigint),
             get_stream_messages(varchar, bigint, bigint, varchar),
             get_category_messages(varchar, bigint, bigint, varchar, bigint, bigint, varchar),
             get_last_stream_message(varchar, varchar), stream_version(varchar), hash_64(varchar),
             category(varchar), id(varchar), cardinal_id(varchar), is_category(varchar),
             acquire_lock(varchar), message_store_version() TO message_store",
    )
    .await
    .unwrap();
    for i in 0..12 {
        write_message(&mut c, &format!("legacy{}-{}", i % 3, i % 4), "Legacy").await;
    }
    c.close().await.unwrap();
}

/// Opening a store over an existing Message DB schema adopts it and runs the later migrations,
/// which leave Message DB's own functions, views and privileges exactly as they were: only
/// messagedb's own write function (0002) is added.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_adopted_message_db_schema_keeps_its_own_tooling() {
    within(async {
        let db = TestDb::create(None).await;
        message_db_installation(&db.url()).await;
        let mut c = connect(&db.url()).await;
        let before = shape(&mut c, "message_store", &[]).await;
        assert!(
            before
                .iter()
                .any(|s| s.starts_with("relation stream_summary v"))
        );

        let store = Store::open(&db.url()).await.unwrap();
        let after = shape(&mut c, "message_store", MESSAGEDB_OWN).await;
        same_shape(&after, &before);
        // The messages written before adoption are counted (migration 0005 fills its counts).
        let (messages, streams): (i64, i64) = sqlx::query_as(
            "SELECT count(*), count(DISTINCT stream_name) FROM message_store.messages",
        )
        .fetch_one(&mut c)
        .await
        .unwrap();
        let info = store.namespace_info("default").await.unwrap();
        assert!(messages > 0);
        assert_eq!((info.message_count, info.stream_count), (messages, streams));
        let version: i32 = sqlx::query_scalar(
            "SELECT schema_version FROM messagedb.namespaces WHERE id = 'default'",
        )
        .fetch_one(&mut c)
        .await
        .unwrap();
        assert_eq!(
            i64::from(version),
            messagedb::migrations::POSTGRES_NAMESPACE
                .last()
                .unwrap()
                .version,
            "every migration ran"
        );
        let (lock_function, debugging): (bool, bool) = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'messagedb_namespace_lock'),
                    EXISTS (SELECT 1 FROM pg_proc WHERE prosrc LIKE '%message_store.debug%')",
        )
        .fetch_one(&mut c)
        .await
        .unwrap();
        assert!(!lock_function && !debugging);

        // The store serves it as before: the history, then new writes after it.
        let ns = store.namespace("default");
        let all = ns
            .get_category("", &CategoryOpts::default().batch_size(-1))
            .await
            .unwrap();
        assert_eq!(all.len(), 12);
        let w = ns
            .write("legacy0-0", msg("New", json!({})), WriteOpts::expect(0))
            .await
            .unwrap();
        assert_eq!((w.position, w.global_position), (1, 13));
        store.close().await;

        // Reopening changes nothing either.
        let again = Store::open(&db.url()).await.unwrap();
        again.close().await;
        same_shape(
            &shape(&mut c, "message_store", MESSAGEDB_OWN).await,
            &before,
        );

        c.close().await.unwrap();
        db.drop().await;
    })
    .await;
}

/// A schema of messagedb's own at version 1 (adopted, as in tests/postgres.rs) upgraded through
/// every migration has the same functions, views and privileges as a namespace created fresh.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_upgraded_from_version_1_equals_a_fresh_one() {
    within(async {
        let db = TestDb::create(None).await;
        let mut c = connect(&db.url()).await;
        c.execute("CREATE SCHEMA message_store; SET search_path TO message_store")
            .await
            .unwrap();
        c.execute(AssertSqlSafe(
            messagedb::migrations::POSTGRES_NAMESPACE[0].sql,
        ))
        .await
        .unwrap();
        c.execute("SET search_path TO DEFAULT").await.unwrap();

        let store = Store::open(&db.url()).await.unwrap();
        store
            .create_namespace("fresh", Default::default())
            .await
            .unwrap();
        // messagedb_namespace_lock() returns a key computed from the schema's name.
        let skip = ["messagedb_namespace_lock"];
        let upgraded = shape(&mut c, "message_store", &skip).await;
        let fresh_schema = schema_of(&mut c, "fresh").await;
        let fresh = shape(&mut c, &fresh_schema, &skip).await;
        same_shape(&upgraded, &fresh);
        assert!(fresh.iter().any(|s| s.contains("message_store.debug_get")));
        assert_eq!(
            fresh
                .iter()
                .filter(|s| s.starts_with("relation ") && s.contains(" v: "))
                .count(),
            6
        );

        c.close().await.unwrap();
        store.close().await;
        db.drop().await;
    })
    .await;
}

/// A database user who may not create roles still opens a store: the migration does what it
/// may (views, debug output, grants to an existing message_store role) and leaves the role's
/// settings alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_without_createrole_opens_a_store() {
    within(async {
        let owner = format!("t_owner_{}", uuid::Uuid::now_v7().simple());
        let mut a = admin().await;
        a.execute(AssertSqlSafe(format!(
            "CREATE ROLE {owner} WITH LOGIN NOCREATEROLE NOSUPERUSER"
        )))
        .await
        .unwrap();
        // The role exists in this case (an operator made it, or another database's store):
        // whether a store creates it depends on who opens it first, cluster-wide.
        a.execute(
            "DO $$ BEGIN CREATE ROLE message_store WITH LOGIN;
             EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
        )
        .await
        .unwrap();
        let db = TestDb::create(Some(&owner)).await;

        let store = Store::open(&db.url_as(&owner))
            .await
            .expect("a store opens for a user without CREATEROLE");
        store
            .namespace("default")
            .write("account-1", msg("Opened", json!({})), WriteOpts::default())
            .await
            .unwrap();
        store.close().await;

        let mut c = connect(&db.url()).await;
        let (views, debugging, usage, select, role_settings): (i64, bool, bool, bool, i64) =
            sqlx::query_as(
                "SELECT (SELECT count(*) FROM pg_views WHERE schemaname = 'message_store'),
                        EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'write_message'
                                AND prosrc LIKE '%message_store.debug_write%'),
                        has_schema_privilege('message_store', 'message_store', 'USAGE'),
                        has_table_privilege('message_store', 'message_store.stream_summary', 'SELECT'),
                        (SELECT count(*) FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
                         WHERE d.datname = current_database())",
            )
            .fetch_one(&mut c)
            .await
            .unwrap();
        assert_eq!(
            (views, debugging, usage, select, role_settings),
            (6, true, true, true, 0)
        );
        c.close().await.unwrap();

        db.drop().await;
        a.execute(AssertSqlSafe(format!("DROP ROLE {owner}")))
            .await
            .unwrap();
    })
    .await;
}
