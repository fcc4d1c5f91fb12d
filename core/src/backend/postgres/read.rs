//! The PostgreSQL read queries, with SQL prepared per namespace schema (sqlx caches the prepared
//! statements on each connection).

use chrono::NaiveDateTime;
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection, Row, SqlSafeStr, SqlStr};
use uuid::Uuid;

use super::schema::{map_error, quote};
use crate::Result;
use crate::model::{
    CategoryOpts, CategorySummary, GetStreamOpts, JsonObject, ListStreamsOpts, Message,
    StreamSummary, batch_limit,
};

/// The columns [`message_from_row`] reads.
const COLUMNS: &str =
    "id, stream_name, type, position, global_position, data::text, metadata::text, time";

/// Membership of consumer group member $m of size $s, as Message DB computes it
/// (`MOD(@hash_64(cardinal_id(stream_name)), size) = member`), inlined so that it needs no
/// search_path and cannot overflow.
const GROUP_FILTER: &str = "strpos(stream_name, '-') > 0 AND abs(mod(('x' || left(md5(split_part(substr(stream_name, strpos(stream_name, '-') + 1), '+', 1)), 16))::bit(64)::bigint, $S)) = $M";

/// Every read statement of one namespace schema.
pub(crate) struct ReadSql {
    stream: SqlStr,
    stream_by_global: SqlStr,
    last: SqlStr,
    last_of_type: SqlStr,
    version: SqlStr,
    /// Indexed by (all, correlation, group) as bits.
    category: [SqlStr; 8],
    streams: SqlStr,
    categories: SqlStr,
    counts: SqlStr,
    count: SqlStr,
    /// How far the counts go, and the newest global position.
    counted: SqlStr,
    count_to: SqlStr,
    /// The newest global position (0 when empty).
    newest: SqlStr,
    /// The head and the messages after $1 (up to $2) of every category, and of category $3.
    progress_all: SqlStr,
    progress: SqlStr,
}

/// SQL built from the (quoted) schema name and constants only; shared, so clones are cheap.
pub(crate) fn shared_sql(sql: String) -> SqlStr {
    AssertSqlSafe(std::sync::Arc::<str>::from(sql)).into_sql_str()
}

impl ReadSql {
    pub(crate) fn new(schema: &str) -> Self {
        let s = quote(schema);
        let select = format!("SELECT {COLUMNS} FROM {s}.messages");
        let category = std::array::from_fn(|bits| {
            let all = bits & 1 != 0;
            let correlation = bits & 2 != 0;
            let group = bits & 4 != 0;
            // $1 position, $2 limit, $3 category, $4 correlation, $5 member, $6 size.
            let mut sql = format!("{select} WHERE global_position >= $1");
            if !all {
                sql.push_str(&format!(" AND {s}.category(stream_name) = $3"));
            }
            if correlation {
                sql.push_str(&format!(
                    " AND {s}.category(metadata->>'correlationStreamName') = $4"
                ));
            }
            if group {
                sql.push_str(" AND ");
                sql.push_str(&GROUP_FILTER.replace("$S", "$6").replace("$M", "$5"));
            }
            sql.push_str(" ORDER BY global_position LIMIT $2");
            shared_sql(sql)
        });
        ReadSql {
            stream: shared_sql(format!(
                "{select} WHERE stream_name = $1 AND position >= $2 ORDER BY position LIMIT $3"
            )),
            stream_by_global: shared_sql(format!(
                "{select} WHERE stream_name = $1 AND global_position >= $2 ORDER BY position LIMIT $3"
            )),
            last: shared_sql(format!(
                "{select} WHERE stream_name = $1 ORDER BY position DESC LIMIT 1"
            )),
            last_of_type: shared_sql(format!(
                "{select} WHERE stream_name = $1 AND type = $2 ORDER BY position DESC LIMIT 1"
            )),
            version: shared_sql(format!(
                "SELECT max(position) FROM {s}.messages WHERE stream_name = $1"
            )),
            category,
            // messagedb_streams (migration 0005): a row per stream in byte order, with its
            // version and last time, so a page costs the same whatever the store holds.
            streams: shared_sql(format!(
                "SELECT stream_name, version, time FROM {s}.messagedb_streams
                 WHERE stream_name > $1 AND stream_name >= $2 AND stream_name < $4
                   AND starts_with(stream_name, $2)
                 ORDER BY stream_name LIMIT $3"
            )),
            // The counts of migration 0005, brought up to date first (`count_up`).
            categories: shared_sql(format!(
                "SELECT category, streams, messages FROM {s}.messagedb_categories ORDER BY category"
            )),
            counts: shared_sql(format!(
                "SELECT coalesce(sum(messages), 0)::bigint, coalesce(sum(streams), 0)::bigint,
                        (SELECT time FROM {s}.messages ORDER BY global_position DESC LIMIT 1)
                 FROM {s}.messagedb_categories"
            )),
            count: shared_sql(format!(
                "SELECT coalesce(sum(messages), 0)::bigint FROM {s}.messagedb_categories"
            )),
            counted: shared_sql(format!(
                "SELECT (SELECT counted_to FROM {s}.messagedb_counted),
                        (SELECT max(global_position) FROM {s}.messages)"
            )),
            count_to: shared_sql(format!("SELECT {s}.messagedb_count($1)")),
            newest: shared_sql(format!(
                "SELECT coalesce(max(global_position), 0) FROM {s}.messages"
            )),
            progress_all: shared_sql(format!(
                "SELECT (SELECT coalesce(max(global_position), 0) FROM {s}.messages),
                        (SELECT count(*) FROM (SELECT 1 FROM {s}.messages
                         WHERE global_position > $1 LIMIT $2) x)"
            )),
            progress: shared_sql(format!(
                "SELECT (SELECT coalesce(max(global_position), 0) FROM {s}.messages),
                        (SELECT count(*) FROM (SELECT 1 FROM {s}.messages
                         WHERE {s}.category(stream_name) = $3 AND global_position > $1 LIMIT $2) x)"
            )),
        }
    }
}

/// A message from a row of [`COLUMNS`].
pub(crate) fn message_from_row(row: &PgRow) -> Result<Message> {
    let get = || -> sqlx::Result<Message> {
        let time: NaiveDateTime = row.try_get(7)?;
        let data: Option<String> = row.try_get(5)?;
        Ok(Message {
            id: row.try_get::<Uuid, _>(0)?,
            stream_name: row.try_get(1)?,
            message_type: row.try_get(2)?,
            position: row.try_get(3)?,
            global_position: row.try_get(4)?,
            data: JsonObject::from_stored(data.unwrap_or_else(|| "{}".into())),
            metadata: row
                .try_get::<Option<String>, _>(6)?
                .map(JsonObject::from_stored),
            time: time.and_utc(),
        })
    };
    get().map_err(map_error)
}

fn messages(rows: Vec<PgRow>) -> Result<Vec<Message>> {
    rows.iter().map(message_from_row).collect()
}

pub(crate) async fn get_stream(
    conn: &mut PgConnection,
    sql: &ReadSql,
    stream_name: &str,
    opts: &GetStreamOpts,
) -> Result<Vec<Message>> {
    let limit = batch_limit(opts.batch_size)?;
    let (query, from) = match opts.global_position {
        Some(gp) => (&sql.stream_by_global, gp),
        None => (&sql.stream, opts.position.unwrap_or(0)),
    };
    let rows = sqlx::query(query.clone())
        .bind(stream_name)
        .bind(from)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await
        .map_err(map_error)?;
    messages(rows)
}

pub(crate) async fn get_last(
    conn: &mut PgConnection,
    sql: &ReadSql,
    stream_name: &str,
    message_type: Option<&str>,
) -> Result<Option<Message>> {
    let query = match message_type {
        Some(t) => sqlx::query(sql.last_of_type.clone())
            .bind(stream_name)
            .bind(t),
        None => sqlx::query(sql.last.clone()).bind(stream_name),
    };
    let row = query.fetch_optional(&mut *conn).await.map_err(map_error)?;
    row.as_ref().map(message_from_row).transpose()
}

pub(crate) async fn stream_version(
    conn: &mut PgConnection,
    sql: &ReadSql,
    stream_name: &str,
) -> Result<Option<i64>> {
    sqlx::query_scalar(sql.version.clone())
        .bind(stream_name)
        .fetch_one(&mut *conn)
        .await
        .map_err(map_error)
}

pub(crate) async fn get_category(
    conn: &mut PgConnection,
    sql: &ReadSql,
    category: &str,
    opts: &CategoryOpts,
) -> Result<Vec<Message>> {
    let limit = batch_limit(opts.batch_size)?;
    let correlation = opts.correlation.as_deref().filter(|c| !c.is_empty());
    let group = opts.consumer_group;
    let bits = usize::from(category.is_empty())
        | usize::from(correlation.is_some()) << 1
        | usize::from(group.is_some()) << 2;
    let rows = sqlx::query(sql.category[bits].clone())
        .bind(opts.position.unwrap_or(1))
        .bind(limit)
        .bind(category)
        .bind(correlation)
        .bind(group.map(|g| g.member))
        .bind(group.map(|g| g.size))
        .fetch_all(&mut *conn)
        .await
        .map_err(map_error)?;
    messages(rows)
}

pub(crate) async fn list_streams(
    conn: &mut PgConnection,
    sql: &ReadSql,
    opts: &ListStreamsOpts,
) -> Result<Vec<StreamSummary>> {
    let prefix = opts.prefix.as_deref().unwrap_or("");
    let rows = sqlx::query(sql.streams.clone())
        .bind(opts.cursor.as_deref().unwrap_or(""))
        .bind(prefix)
        .bind(opts.limit.unwrap_or(100))
        // Every name starting with the prefix sorts below prefix + U+10FFFF in byte order.
        .bind(format!("{prefix}\u{10FFFF}"))
        .fetch_all(&mut *conn)
        .await
        .map_err(map_error)?;
    rows.iter()
        .map(|r| {
            Ok(StreamSummary {
                stream: r.try_get(0)?,
                version: r.try_get(1)?,
                last_activity: r.try_get::<NaiveDateTime, _>(2)?.and_utc(),
            })
        })
        .collect::<sqlx::Result<_>>()
        .map_err(map_error)
}

pub(crate) async fn list_categories(
    conn: &mut PgConnection,
    sql: &ReadSql,
) -> Result<Vec<CategorySummary>> {
    let rows = sqlx::query(sql.categories.clone())
        .fetch_all(&mut *conn)
        .await
        .map_err(map_error)?;
    rows.iter()
        .map(|r| {
            Ok(CategorySummary {
                category: r.try_get(0)?,
                stream_count: r.try_get(1)?,
                message_count: r.try_get(2)?,
            })
        })
        .collect::<sqlx::Result<_>>()
        .map_err(map_error)
}

/// Message count, stream count and the time of the newest message.
pub(crate) async fn counts(
    conn: &mut PgConnection,
    sql: &ReadSql,
) -> Result<(i64, i64, Option<NaiveDateTime>)> {
    let row = sqlx::query(sql.counts.clone())
        .fetch_one(&mut *conn)
        .await
        .map_err(map_error)?;
    (|| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))().map_err(map_error)
}

/// How many messages the namespace holds.
/// The head (0 when empty) and how many messages of `category` (`""` = all) come after `after`,
/// counted up to `limit` along the category index.
pub(crate) async fn progress(
    conn: &mut PgConnection,
    sql: &ReadSql,
    category: &str,
    after: i64,
    limit: i64,
) -> Result<(i64, i64)> {
    let query = if category.is_empty() {
        sqlx::query_as(sql.progress_all.clone())
            .bind(after)
            .bind(limit)
    } else {
        sqlx::query_as(sql.progress.clone())
            .bind(after)
            .bind(limit)
            .bind(category)
    };
    query.fetch_one(&mut *conn).await.map_err(map_error)
}

pub(crate) async fn message_count(conn: &mut PgConnection, sql: &ReadSql) -> Result<i64> {
    sqlx::query_scalar(sql.count.clone())
        .fetch_one(&mut *conn)
        .await
        .map_err(map_error)
}

/// The newest global position, 0 when the namespace is empty.
pub(crate) async fn newest(conn: &mut PgConnection, sql: &ReadSql) -> Result<i64> {
    sqlx::query_scalar(sql.newest.clone())
        .fetch_one(&mut *conn)
        .await
        .map_err(map_error)
}

/// Brings the namespace's counts (migration 0005) up to its newest message, once every writer in
/// flight has finished (so a message that commits late, below the newest, is not left behind).
/// Costs what was written since the last call: nothing when nothing was.
pub(crate) async fn count_up(conn: &mut PgConnection, sql: &ReadSql, lock: i64) -> Result<()> {
    let (counted, newest): (i64, Option<i64>) = sqlx::query_as(sql.counted.clone())
        .fetch_one(&mut *conn)
        .await
        .map_err(map_error)?;
    let Some(newest) = newest.filter(|n| *n > counted) else {
        return Ok(());
    };
    wait_for_writers(conn, lock).await?;
    sqlx::query(sql.count_to.clone())
        .bind(newest)
        .execute(&mut *conn)
        .await
        .map_err(map_error)?;
    Ok(())
}

/// How many of `rows` (a whole-namespace page read from global position `from`) a reader may
/// take: up to the first missing global position above `settled` (every position up to
/// `settled` is known to be committed or never to be).
pub(crate) fn unbroken(rows: &[Message], from: i64, settled: i64) -> usize {
    let mut expected = from;
    for (i, m) in rows.iter().enumerate() {
        if m.global_position > expected && m.global_position > settled {
            return i;
        }
        expected = m.global_position + 1;
    }
    rows.len()
}

/// Which of the transactions `$3` (all when NULL) hold the namespace lock `$1 << 32 | $2` (every
/// writer of the namespace holds it, shared, from before it takes a global position until it
/// commits).
const LOCK_HOLDERS: &str = "SELECT virtualtransaction FROM pg_locks
     WHERE locktype = 'advisory' AND objsubid = 1 AND granted
       AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND classid = $1::bigint::oid AND objid = $2::bigint::oid
       AND ($3::text[] IS NULL OR virtualtransaction = ANY ($3))";

/// Waits until every transaction writing to the namespace now has ended: then any global
/// position taken before this call is committed or will never be. Polls `pg_locks` rather than
/// asking for the lock itself, which would queue every new writer behind this reader.
pub(crate) async fn wait_for_writers(conn: &mut PgConnection, key: i64) -> Result<()> {
    let (high, low) = ((key as u64 >> 32) as i64, (key as u64 & 0xffff_ffff) as i64);
    let mut holders: Option<Vec<String>> = None;
    let mut pause = std::time::Duration::from_micros(200);
    loop {
        let now: Vec<String> = sqlx::query_scalar(LOCK_HOLDERS)
            .bind(high)
            .bind(low)
            .bind(&holders)
            .fetch_all(&mut *conn)
            .await
            .map_err(map_error)?;
        if now.is_empty() {
            return Ok(());
        }
        holders = Some(now);
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(std::time::Duration::from_millis(20));
    }
}
