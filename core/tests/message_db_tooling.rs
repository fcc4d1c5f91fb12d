//! PostgreSQL only: the rest of Message DB 1.3's install in a namespace schema (migration 0003):
//! the six report views, the `message_store` role and the privileges Message DB grants it, the
//! debug NOTICEs of the functions, and an adopted Message DB schema left exactly as it was.
//!
//! Each test runs in a database of its own, dropped at the end. The server is
//! `MESSAGEDB_TEST_PG_URL` (superuser); connecting as other roles relies on trust authentication
//! for TCP connections, as `scripts/pg.sh` configures it. The NOTICEs are read from `psql`'s
//! standard error.

use std::future::Future;
use std::time::Duration;

use messagedb::{CategoryOpts, GetStreamOpts, NewMessage, Store, WriteOpts};
use serde_json::json;
use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection, Row};

/// Every test finishes within this, or fails.
const DEADLINE: Duration = Duration::from_secs(180);

fn server_url() -> String {
    std::env::var("MESSAGEDB_TEST_PG_URL").expect(
        "MESSAGEDB_TEST_PG_URL must name a PostgreSQL server (superuser) to test on; \
         `eval \"$(scripts/pg.sh start)\"` starts a throwaway cluster and sets it",
    )
}

async fn within<F: Future<Output = ()>>(test: F) {
    tokio::time::timeout(DEADLINE, test)
        .await
        .expect("the test finishes within its deadline");
}

/// The URL of `database` on the test server, as `user` (the server URL's user when `None`).
fn url_for(database: &str, user: Option<&str>) -> String {
    let server = server_url();
    let (base, query) = server
        .split_once('?')
        .map_or((server.as_str(), None), |(b, q)| (b, Some(q)));
    let (scheme, rest) = base
        .split_once("://")
        .expect("MESSAGEDB_TEST_PG_URL is a postgres:// URL");
    let authority = rest.split_once('/').map_or(rest, |(a, _)| a);
    let (userinfo, host) = authority
        .rsplit_once('@')
        .map_or(("", authority), |(u, h)| (u, h));
    let userinfo = match user {
        Some(u) => format!("{u}@"),
        None if userinfo.is_empty() => String::new(),
        None => format!("{userinfo}@"),
    };
    let query = query.map_or(String::new(), |q| format!("?{q}"));
    format!("{scheme}://{userinfo}{host}/{database}{query}")
}

async fn connect(url: &str) -> PgConnection {
    PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"))
}

async fn admin() -> PgConnection {
    connect(&server_url()).await
}

/// A database of this test run, dropped by [`TestDb::drop`].
struct TestDb {
    name: String,
}

impl TestDb {
    async fn create(owner: Option<&str>) -> TestDb {
        let name = format!("t_tooling_{}", uuid::Uuid::now_v7().simple());
        let owner = owner.map_or(String::new(), |o| format!(" OWNER {o}"));
        admin()
            .await
            .execute(AssertSqlSafe(format!("CREATE DATABASE {name}{owner}")))
            .await
            .expect("create a test database");
        TestDb { name }
    }

    fn url(&self) -> String {
        url_for(&self.name, None)
    }

    fn url_as(&self, user: &str) -> String {
        url_for(&self.name, Some(user))
    }

    async fn drop(self) {
        admin()
            .await
            .execute(AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            )))
            .await
            .expect("drop the test database");
    }
}

/// The schema of namespace `id` (its name is messagedb's business: read it from the registry).
async fn schema_of(c: &mut PgConnection, id: &str) -> String {
    sqlx::query_scalar("SELECT schema_name FROM messagedb.namespaces WHERE id = $1")
        .bind(id)
        .fetch_one(c)
        .await
        .unwrap_or_else(|e| panic!("namespace {id} is registered: {e}"))
}

/// `identifier` double-quoted.
fn quoted(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

fn msg(t: &str, data: serde_json::Value) -> NewMessage {
    NewMessage::new(t, data).unwrap()
}

async fn write_message(c: &mut PgConnection, stream: &str, t: &str) -> i64 {
    sqlx::query_scalar("SELECT write_message($1, $2, $3, '{}')")
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(stream)
        .bind(t)
        .fetch_one(c)
        .await
        .unwrap_or_else(|e| panic!("write_message to {stream}: {e}"))
}

/// A view's rows in the view's order, every column as text (percent as PostgreSQL prints it).
async fn rows(c: &mut PgConnection, schema: &str, view: &str) -> Vec<Vec<String>> {
    let columns = columns(c, schema, view).await;
    let select: Vec<String> = columns.iter().map(|(n, _)| format!("{n}::text")).collect();
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {} FROM {}.{view}",
        select.join(", "),
        quoted(schema)
    )))
    .fetch_all(&mut *c)
    .await
    .unwrap_or_else(|e| panic!("read {schema}.{view}: {e}"));
    rows.iter()
        .map(|r| (0..columns.len()).map(|i| r.get::<String, _>(i)).collect())
        .collect()
}

/// A relation's columns and types, in order.
async fn columns(c: &mut PgConnection, schema: &str, relation: &str) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT column_name::text, data_type::text FROM information_schema.columns
         WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
    )
    .bind(schema)
    .bind(relation)
    .fetch_all(c)
    .await
    .unwrap()
}

fn table(rows: &[&[&str]]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| r.iter().map(|s| s.to_string()).collect())
        .collect()
}

/// The six views have Message DB's columns; each counts the messages of its own schema, and
/// percent is of all of them, rounded to two places (up and down), rows in Message DB's order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_views_answer_as_message_db_does() {
    within(async {
        let db = TestDb::create(None).await;
        let store = Store::open(&db.url()).await.unwrap();
        store
            .create_namespace("reports", Default::default())
            .await
            .unwrap();
        let mut c = connect(&db.url()).await;

        let text = "text";
        let varchar = "character varying";
        let (bigint, numeric) = ("bigint", "numeric");
        let expected_columns: [(&str, &[(&str, &str)]); 6] = [
            (
                "stream_summary",
                &[
                    ("stream_name", text),
                    ("message_count", bigint),
                    ("percent", numeric),
                ],
            ),
            (
                "type_summary",
                &[
                    ("type", text),
                    ("message_count", bigint),
                    ("percent", numeric),
                ],
            ),
            (
                "stream_type_summary",
                &[
                    ("stream_name", text),
                    ("type", text),
                    ("message_count", bigint),
                    ("percent", numeric),
                ],
            ),
            (
                "type_stream_summary",
                &[
                    ("type", text),
                    ("stream_name", text),
                    ("message_count", bigint),
                    ("percent", numeric),
                ],
            ),
            (
                "category_type_summary",
                &[
                    ("category", varchar),
                    ("type", text),
                    ("message_count", bigint),
                    ("percent", numeric),
                ],
            ),
            (
                "type_category_summary",
                &[
                    ("type", text),
                    ("category", varchar),
                    ("message_count", bigint),
                    ("percent", numeric),
                ],
            ),
        ];
        let reports = schema_of(&mut c, "reports").await;
        for schema in ["message_store", reports.as_str()] {
            for (view, cols) in &expected_columns {
                let expected: Vec<(String, String)> = cols
                    .iter()
                    .map(|(n, t)| (n.to_string(), t.to_string()))
                    .collect();
                assert_eq!(
                    columns(&mut c, schema, view).await,
                    expected,
                    "{schema}.{view}"
                );
                // No messages: no rows (and no division by zero).
                assert!(
                    rows(&mut c, schema, view).await.is_empty(),
                    "{schema}.{view}"
                );
            }
        }

        // Seven messages, written out of order, through messagedb and through write_message.
        let ns = store.namespace("default");
        c.execute("SET search_path TO message_store").await.unwrap();
        write_message(&mut c, "order-1", "Placed").await;
        ns.write("account-2", msg("Opened", json!({})), WriteOpts::default())
            .await
            .unwrap();
        write_message(&mut c, "order-1", "Shipped").await;
        for t in ["Opened", "Deposited", "Deposited"] {
            ns.write("account-1", msg(t, json!({"t": t})), WriteOpts::default())
                .await
                .unwrap();
        }
        write_message(&mut c, "account-2", "Deposited").await;
        // The other namespace's schema counts only its own.
        store
            .namespace("reports")
            .write("report-1", msg("Ran", json!({})), WriteOpts::default())
            .await
            .unwrap();

        // 3/7 = 42.857… → 42.86, 2/7 = 28.571… → 28.57, 1/7 = 14.285… → 14.29.
        let expected: [(&str, Vec<Vec<String>>); 6] = [
            (
                "stream_summary",
                table(&[
                    &["account-1", "3", "42.86"],
                    &["account-2", "2", "28.57"],
                    &["order-1", "2", "28.57"],
                ]),
            ),
            (
                "type_summary",
                table(&[
                    &["Deposited", "3", "42.86"],
                    &["Opened", "2", "28.57"],
                    &["Placed", "1", "14.29"],
                    &["Shipped", "1", "14.29"],
                ]),
            ),
            (
                "stream_type_summary",
                table(&[
                    &["account-1", "Deposited", "2", "28.57"],
                    &["account-1", "Opened", "1", "14.29"],
                    &["account-2", "Deposited", "1", "14.29"],
                    &["account-2", "Opened", "1", "14.29"],
                    &["order-1", "Placed", "1", "14.29"],
                    &["order-1", "Shipped", "1", "14.29"],
                ]),
            ),
            (
                "type_stream_summary",
                table(&[
                    &["Deposited", "account-1", "2", "28.57"],
                    &["Deposited", "account-2", "1", "14.29"],
                    &["Opened", "account-1", "1", "14.29"],
                    &["Opened", "account-2", "1", "14.29"],
                    &["Placed", "order-1", "1", "14.29"],
                    &["Shipped", "order-1", "1", "14.29"],
                ]),
            ),
            (
                "category_type_summary",
                table(&[
                    &["account", "Deposited", "3", "42.86"],
                    &["account", "Opened", "2", "28.57"],
                    &["order", "Placed", "1", "14.29"],
                    &["order", "Shipped", "1", "14.29"],
                ]),
            ),
            (
                "type_category_summary",
                table(&[
                    &["Deposited", "account", "3", "42.86"],
                    &["Opened", "account", "2", "28.57"],
                    &["Placed", "order", "1", "14.29"],
                    &["Shipped", "order", "1", "14.29"],
                ]),
            ),
        ];
        for (view, want) in &expected {
            assert_eq!(&rows(&mut c, "message_store", view).await, want, "{view}");
        }
        assert_eq!(
            rows(&mut c, &reports, "stream_summary").await,
            table(&[&["report-1", "1", "100.00"]])
        );
        assert_eq!(
            rows(&mut c, &reports, "category_type_summary").await,
            table(&[&["report", "Ran", "1", "100.00"]])
        );

        drop(c);
        store.close().await;
        db.drop().await;
    })
    .await;
}

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

/// The NOTICEs `psql` prints while running `commands` (a notice spanning several lines is one
/// item).
async fn notices(url: &str, commands: &[&str]) -> Vec<String> {
    let mut psql = tokio::process::Command::new("psql");
    psql.arg(url)
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1"])
        .env("PGOPTIONS", "-c client_min_messages=notice")
        .env("PGCLIENTENCODING", "UTF8")
        .kill_on_drop(true);
    for command in commands {
        psql.args(["-c", command]);
    }
    let out = psql
        .output()
        .await
        .expect("psql runs (the PostgreSQL client must be installed)");
    let stderr = String::from_utf8(out.stderr).expect("UTF-8");
    assert!(out.status.success(), "psql failed: {stderr}");
    let mut notices: Vec<String> = Vec::new();
    for line in stderr.lines() {
        match line.strip_prefix("NOTICE:  ") {
            Some(notice) => notices.push(notice.to_string()),
            None => match notices.last_mut() {
                Some(last) => {
                    last.push('\n');
                    last.push_str(line);
                }
                None => panic!("psql printed something other than a notice: {stderr}"),
            },
        }
    }
    notices
}

/// Replaces the text of each `Generated Command: …` notice (our SQL, laid out our way) after
/// checking that it is the command run.
fn without_commands(notices: Vec<String>) -> Vec<String> {
    notices
        .into_iter()
        .map(|n| match n.strip_prefix("Generated Command: ") {
            Some(command) => {
                assert!(
                    command.contains("FROM") && command.contains("messages"),
                    "{command}"
                );
                "Generated Command: …".to_string()
            }
            None => n,
        })
        .collect()
}

/// With `message_store.debug` (or `.debug_write` / `.debug_get`) on, the functions say what they
/// were called with, in Message DB's words; with the settings off (the default), nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_settings_raise_message_db_notices() {
    within(async {
        let db = TestDb::create(None).await;
        let store = Store::open(&db.url()).await.unwrap();
        let url = db.url();
        let id = uuid::Uuid::now_v7().to_string();
        let hash = messagedb::hash_64("debug");
        let write = format!(
            "SELECT write_message('{id}', 'debug-1', 'Tested', '{{\"n\": 1}}', '{{\"m\": true}}', -1)"
        );
        let reads = [
            "SELECT * FROM get_stream_messages('debug-1', 0, 10)",
            "SELECT * FROM get_category_messages('debug', 1, 10, NULL, 0, 1)",
            "SELECT * FROM get_last_stream_message('debug-1', 'Tested')",
        ];
        let write_notices: Vec<String> = [
            "» acquire_lock".to_string(),
            "stream_name: debug-1".into(),
            "_category: debug".into(),
            format!("_category_name_hash: {hash}"),
            "» write_message".into(),
            format!("id ($1): {id}"),
            "stream_name ($2): debug-1".into(),
            "type ($3): Tested".into(),
            "data ($4): {\"n\": 1}".into(),
            "metadata ($5): {\"m\": true}".into(),
            "expected_version ($6): -1".into(),
            "_stream_version: -1".into(),
            "_next_position: 0".into(),
        ]
        .into();
        let read_notices: Vec<String> = [
            "» get_stream_messages",
            "stream_name ($1): debug-1",
            "position ($2): 0",
            "batch_size ($3): 10",
            "condition ($4): <NULL>",
            "Generated Command: …",
            "» get_category_messages",
            "category ($1): debug",
            "position ($2): 1",
            "batch_size ($3): 10",
            "correlation ($4): <NULL>",
            "consumer_group_member ($5): 0",
            "consumer_group_size ($6): 1",
            "condition: <NULL>",
            "Generated Command: …",
            "» get_last_message",
            "stream_name ($1): debug-1",
            "type ($2): Tested",
            "Generated Command: …",
        ]
        .map(String::from)
        .into();

        let session = |setting: Option<&str>, write: &str| {
            let mut commands = vec!["SET search_path TO message_store".to_string()];
            if let Some(s) = setting {
                commands.push(format!("SET {s} = on"));
            }
            commands.push(write.to_string());
            commands.extend(reads.iter().map(|r| r.to_string()));
            commands
        };
        let run = |commands: Vec<String>| {
            let url = url.clone();
            async move {
                let commands: Vec<&str> = commands.iter().map(String::as_str).collect();
                without_commands(notices(&url, &commands).await)
            }
        };

        // Off by default: not a word.
        let quiet = run(session(None, "SELECT write_message(gen_random_uuid()::text, 'quiet-1', 'Q', '{}')")).await;
        assert_eq!(quiet, Vec::<String>::new());

        let all = run(session(Some("message_store.debug"), &write)).await;
        let mut expected = write_notices.clone();
        expected.extend(read_notices.iter().cloned());
        assert_eq!(all, expected);

        // debug_write: the write (and the lock it takes), not the reads.
        let id2 = uuid::Uuid::now_v7().to_string();
        let write2 = write
            .replace(&id, &id2)
            .replace("'{\"m\": true}', -1", "NULL, 0");
        let writes = run(session(Some("message_store.debug_write"), &write2)).await;
        let mut expected: Vec<String> = write_notices
            .iter()
            .map(|n| n.replace(&id, &id2))
            .collect();
        expected[9] = "metadata ($5): <NULL>".into();
        expected[10] = "expected_version ($6): 0".into();
        expected[11] = "_stream_version: 0".into();
        expected[12] = "_next_position: 1".into();
        assert_eq!(writes, expected);

        // debug_get: the reads, not the write.
        let gets = run(session(
            Some("message_store.debug_get"),
            "SELECT write_message(gen_random_uuid()::text, 'debug-2', 'Tested', '{}')",
        ))
        .await;
        assert_eq!(gets, read_notices);

        // Turned off again within a session: quiet again.
        let off = run(vec![
            "SET search_path TO message_store".into(),
            "SET message_store.debug = on".into(),
            "SET message_store.debug = off".into(),
            reads[0].into(),
        ])
        .await;
        assert_eq!(off, Vec::<String>::new());

        store.close().await;
        db.drop().await;
    })
    .await;
}

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
            !skip
                .iter()
                .any(|s| name.starts_with(&format!("function {s}(")))
        })
        .map(|(name, def)| {
            let def = def.replace(&quoted(schema), "message_store");
            format!("{name}: {}", def.replace(schema, "message_store"))
        })
        .collect()
}

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
        let after = shape(&mut c, "message_store", &["messagedb_write"]).await;
        same_shape(&after, &before);
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
            &shape(&mut c, "message_store", &["messagedb_write"]).await,
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
