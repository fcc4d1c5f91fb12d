//! The SQLite read queries. Each runs on a read connection with cached prepared statements.

use chrono::DateTime;
use rusqlite::{Connection, named_params};

use super::conn::{map_error, message_from_row, select_messages};
use crate::Result;
use crate::model::{
    CategoryOpts, CategorySummary, GetStreamOpts, ListStreamsOpts, Message, StreamSummary,
    batch_limit,
};

/// SQLite's "no limit".
fn sql_limit(batch_size: Option<i64>) -> Result<i64> {
    Ok(batch_limit(batch_size)?.unwrap_or(-1))
}

fn collect(
    conn: &Connection,
    sql: &str,
    params: &[(&str, &dyn rusqlite::ToSql)],
) -> Result<Vec<Message>> {
    let mut stmt = conn.prepare_cached(sql).map_err(map_error)?;
    let rows = stmt
        .query_map(params, message_from_row)
        .map_err(map_error)?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .map_err(map_error)
}

pub(crate) fn get_stream(
    conn: &Connection,
    stream_name: &str,
    opts: &GetStreamOpts,
) -> Result<Vec<Message>> {
    let limit = sql_limit(opts.batch_size)?;
    match opts.global_position {
        Some(gp) => collect(
            conn,
            select_messages!(
                "WHERE stream_name = :s AND global_position >= :p ORDER BY position LIMIT :l"
            ),
            named_params! {":s": stream_name, ":p": gp, ":l": limit},
        ),
        None => collect(
            conn,
            select_messages!(
                "WHERE stream_name = :s AND position >= :p ORDER BY position LIMIT :l"
            ),
            named_params! {":s": stream_name, ":p": opts.position.unwrap_or(0), ":l": limit},
        ),
    }
}

pub(crate) fn get_last(
    conn: &Connection,
    stream_name: &str,
    message_type: Option<&str>,
) -> Result<Option<Message>> {
    let page = match message_type {
        Some(t) => collect(
            conn,
            select_messages!("WHERE stream_name = :s AND type = :t ORDER BY position DESC LIMIT 1"),
            named_params! {":s": stream_name, ":t": t},
        ),
        None => collect(
            conn,
            select_messages!("WHERE stream_name = :s ORDER BY position DESC LIMIT 1"),
            named_params! {":s": stream_name},
        ),
    }?;
    Ok(page.into_iter().next())
}

pub(crate) fn stream_version(conn: &Connection, stream_name: &str) -> Result<Option<i64>> {
    conn.prepare_cached("SELECT max(position) FROM messages WHERE stream_name = ?1")
        .and_then(|mut s| s.query_row([stream_name], |r| r.get(0)))
        .map_err(map_error)
}

/// The namespace's last global position (0 when empty).
pub(crate) fn head(conn: &Connection) -> Result<i64> {
    conn.prepare_cached("SELECT coalesce(max(global_position), 0) FROM messages")
        .and_then(|mut s| s.query_row([], |r| r.get(0)))
        .map_err(map_error)
}

/// How many messages of `category` (`""` = all) come after global position `after`, counted up to
/// `limit` along `(category, global_position)` (the primary key for `""`).
pub(crate) fn count_after(
    conn: &Connection,
    category: &str,
    after: i64,
    limit: i64,
) -> Result<i64> {
    let counted = if category.is_empty() {
        conn.prepare_cached(
            "SELECT count(*) FROM (SELECT 1 FROM messages WHERE global_position > ?1 LIMIT ?2)",
        )
        .and_then(|mut s| s.query_row(rusqlite::params![after, limit], |r| r.get(0)))
    } else {
        conn.prepare_cached(
            "SELECT count(*) FROM (SELECT 1 FROM messages
             WHERE category = ?1 AND global_position > ?2 LIMIT ?3)",
        )
        .and_then(|mut s| s.query_row(rusqlite::params![category, after, limit], |r| r.get(0)))
    };
    counted.map_err(map_error)
}

/// A category read: a bounded range on `(category, global_position)` (or the primary key for
/// `""`), with the correlation and consumer-group filters applied before the limit.
pub(crate) fn get_category(
    conn: &Connection,
    category: &str,
    opts: &CategoryOpts,
) -> Result<Vec<Message>> {
    let limit = sql_limit(opts.batch_size)?;
    let position = opts.position.unwrap_or(1);
    let correlation = opts.correlation.as_deref().filter(|c| !c.is_empty());
    let group = opts.consumer_group;
    // One static statement per filter combination, so each stays prepared in the cache.
    // `abs(h % size)` equals `abs(h) % size` without overflowing on i64::MIN.
    let sql = match (category.is_empty(), correlation.is_some(), group.is_some()) {
        (true, false, false) => {
            select_messages!("WHERE global_position >= :p ORDER BY global_position LIMIT :l")
        }
        (true, true, false) => select_messages!(
            "WHERE global_position >= :p AND correlation = :corr ORDER BY global_position LIMIT :l"
        ),
        (true, false, true) => select_messages!(
            "WHERE global_position >= :p AND abs(cardinal_hash % :size) = :member ORDER BY global_position LIMIT :l"
        ),
        (true, true, true) => select_messages!(
            "WHERE global_position >= :p AND correlation = :corr AND abs(cardinal_hash % :size) = :member ORDER BY global_position LIMIT :l"
        ),
        (false, false, false) => select_messages!(
            "WHERE category = :c AND global_position >= :p ORDER BY global_position LIMIT :l"
        ),
        (false, true, false) => select_messages!(
            "WHERE category = :c AND global_position >= :p AND correlation = :corr ORDER BY global_position LIMIT :l"
        ),
        (false, false, true) => select_messages!(
            "WHERE category = :c AND global_position >= :p AND abs(cardinal_hash % :size) = :member ORDER BY global_position LIMIT :l"
        ),
        (false, true, true) => select_messages!(
            "WHERE category = :c AND global_position >= :p AND correlation = :corr AND abs(cardinal_hash % :size) = :member ORDER BY global_position LIMIT :l"
        ),
    };
    let mut params: Vec<(&str, &dyn rusqlite::ToSql)> = vec![(":p", &position), (":l", &limit)];
    if !category.is_empty() {
        params.push((":c", &category));
    }
    if let Some(c) = &correlation {
        params.push((":corr", c));
    }
    if let Some(g) = &group {
        params.push((":size", &g.size));
        params.push((":member", &g.member));
    }
    collect(conn, sql, &params)
}

/// A page of streams after (`>`) or from (`>=`) `:from`, below `:upper`.
macro_rules! streams_page {
    ($bound:literal) => {
        concat!(
            "SELECT stream_name, version, time FROM streams WHERE stream_name ",
            $bound,
            " :from AND stream_name < :upper ORDER BY stream_name LIMIT :l"
        )
    };
}

/// Whether messages were written since the counts were last brought up to date.
pub(crate) fn uncounted(conn: &Connection) -> Result<bool> {
    conn.prepare_cached(
        "SELECT (SELECT counted_to FROM counted) < (SELECT coalesce(max(global_position), 0) FROM messages)",
    )
    .and_then(|mut s| s.query_row([], |r| r.get(0)))
    .map_err(map_error)
}

/// Streams in byte order, a page at a time, from the `streams` table (a row per stream with its
/// version and last time), so a page costs the same whatever the store holds.
pub(crate) fn list_streams(
    conn: &Connection,
    opts: &ListStreamsOpts,
) -> Result<Vec<StreamSummary>> {
    let prefix = opts.prefix.as_deref().unwrap_or("");
    // Every name starting with the prefix sorts below prefix + U+10FFFF in byte order.
    let upper = format!("{prefix}\u{10FFFF}");
    let cursor = opts.cursor.as_deref().unwrap_or("");
    let limit = opts.limit.unwrap_or(100);
    // One lower bound, so that the index search starts at the page's first name.
    let (sql, from) = match cursor >= prefix {
        true => (streams_page!(">"), cursor),
        false => (streams_page!(">="), prefix),
    };
    let mut stmt = conn.prepare_cached(sql).map_err(map_error)?;
    let rows = stmt
        .query_map(
            named_params! {":from": from, ":upper": upper, ":l": limit},
            |r| {
                Ok(StreamSummary {
                    stream: r.get(0)?,
                    version: r.get(1)?,
                    last_activity: DateTime::from_timestamp_micros(r.get(2)?).unwrap_or_default(),
                })
            },
        )
        .map_err(map_error)?;
    rows.filter(|r| r.as_ref().map_or(true, |s| s.stream.starts_with(prefix)))
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(map_error)
}

/// Categories in byte order with their counts (migration 0002).
pub(crate) fn list_categories(conn: &Connection) -> Result<Vec<CategorySummary>> {
    let mut stmt = conn
        .prepare_cached("SELECT category, streams, messages FROM categories ORDER BY category")
        .map_err(map_error)?;
    let rows = stmt
        .query_map([], |r| {
            Ok(CategorySummary {
                category: r.get(0)?,
                stream_count: r.get(1)?,
                message_count: r.get(2)?,
            })
        })
        .map_err(map_error)?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .map_err(map_error)
}

/// Message count, stream count and the time of the newest message.
pub(crate) fn counts(conn: &Connection) -> Result<(i64, i64, Option<i64>)> {
    let (messages, streams) = conn
        .query_row(
            "SELECT coalesce(sum(messages), 0), coalesce(sum(streams), 0) FROM categories",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(map_error)?;
    let last = conn
        .query_row(
            "SELECT time FROM messages ORDER BY global_position DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })
        .map_err(map_error)?;
    Ok((messages, streams, last))
}

/// How many messages the namespace holds.
pub(crate) fn message_count(conn: &Connection) -> Result<i64> {
    conn.query_row(
        "SELECT coalesce(sum(messages), 0) FROM categories",
        [],
        |r| r.get(0),
    )
    .map_err(map_error)
}
