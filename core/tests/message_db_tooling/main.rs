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

mod adoption;
mod notices;
mod roles;
mod views;
