//! The PostgreSQL server the suite runs on: `MESSAGEDB_TEST_PG_URL`, a fresh database per test.

use sqlx::{Connection, Executor, PgConnection};

/// The server's URL; a missing one fails the test (never skipped).
pub fn server_url() -> String {
    std::env::var("MESSAGEDB_TEST_PG_URL").expect(
        "MESSAGEDB_TEST_PG_URL must name a PostgreSQL server to test on; \
         scripts/test.sh starts a throwaway cluster and sets it",
    )
}

/// The URL of `database` on the test server.
pub fn database_url(database: &str) -> String {
    let server = server_url();
    let (base, query) = server
        .split_once('?')
        .map_or((server.as_str(), None), |(b, q)| (b, Some(q)));
    let root = base.rsplit_once('/').map_or(base, |(root, _)| root);
    match query {
        Some(q) => format!("{root}/{database}?{q}"),
        None => format!("{root}/{database}"),
    }
}

/// Creates an empty database and returns its URL.
pub async fn fresh_database() -> String {
    let name = format!("t_{}", uuid::Uuid::now_v7().simple());
    let mut admin = PgConnection::connect(&server_url())
        .await
        .expect("connect to the test server");
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("create a test database");
    database_url(&name)
}
