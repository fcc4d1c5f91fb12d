//! The schema migrations, embedded at compile time from `migrations/`. Never edit a released one.

/// One migration: a version (1, 2, …) and its SQL.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// The schema version this migration brings a database to.
    pub version: i64,
    /// The migration's file name.
    pub name: &'static str,
    /// Its SQL.
    pub sql: &'static str,
}

macro_rules! migration {
    ($version:expr, $path:literal) => {
        Migration {
            version: $version,
            name: $path,
            sql: include_str!(concat!("../../migrations/", $path)),
        }
    };
}

/// The SQLite registry of namespaces.
pub const SQLITE_METADATA: &[Migration] = &[migration!(1, "metadata/sqlite/0001_namespaces.sql")];

/// One SQLite namespace database.
pub const SQLITE_NAMESPACE: &[Migration] = &[
    migration!(1, "namespace/sqlite/0001_messages.sql"),
    migration!(2, "namespace/sqlite/0002_counts.sql"),
];

/// The PostgreSQL registry of namespaces (schema `messagedb`).
pub const POSTGRES_METADATA: &[Migration] = &[
    migration!(1, "metadata/postgres/0001_registry.sql"),
    migration!(2, "metadata/postgres/0002_schema_numbers.sql"),
];

/// One PostgreSQL namespace schema. Version 1 is Message DB 1.3 itself, so an existing Message DB
/// schema is adopted at version 1.
pub const POSTGRES_NAMESPACE: &[Migration] = &[
    migration!(1, "namespace/postgres/0001_message_db.sql"),
    migration!(2, "namespace/postgres/0002_messagedb_write.sql"),
    migration!(3, "namespace/postgres/0003_message_db_tooling.sql"),
    migration!(4, "namespace/postgres/0004_global_position_limit.sql"),
    migration!(5, "namespace/postgres/0005_counts.sql"),
];
