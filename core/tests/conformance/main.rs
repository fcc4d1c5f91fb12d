//! The conformance suite: every store operation and every guarantee of design.md, written once and
//! run on every backend (SQLite in memory, SQLite on disk; PostgreSQL joins through `Fixture`).

mod consumers;
mod consumers_more;
mod counts;
mod errors;
mod import;
mod namespaces;
mod pg;
mod reads;
mod rules;
mod stress;
mod subscriptions;
mod writes;

use std::path::Path;

use messagedb::{NewMessage, Store};

/// A backend under test: opens stores on it, fresh per test.
pub struct Fixture {
    dir: Option<tempfile::TempDir>,
    postgres: Option<String>,
}

impl Fixture {
    /// Embedded SQLite, in memory: every `open` is a new empty store.
    pub async fn memory() -> Fixture {
        Fixture {
            dir: None,
            postgres: None,
        }
    }

    /// Embedded SQLite in a temporary directory: every `open` sees the same data.
    pub async fn file() -> Fixture {
        Fixture {
            dir: Some(tempfile::tempdir().expect("temp dir")),
            postgres: None,
        }
    }

    /// PostgreSQL: a new database on the server of `MESSAGEDB_TEST_PG_URL` (scripts/test.sh
    /// starts a throwaway cluster and sets it); every `open` sees the same data.
    pub async fn postgres() -> Fixture {
        Fixture {
            dir: None,
            postgres: Some(pg::fresh_database().await),
        }
    }

    /// Opens a store on this backend.
    pub async fn open(&self) -> Store {
        let url = self.url().unwrap_or_else(|| "sqlite::memory:".into());
        Store::open(&url).await.expect("open store")
    }

    /// The URL of a store whose data outlives it (`None` in memory).
    pub fn url(&self) -> Option<String> {
        match (&self.dir, &self.postgres) {
            (_, Some(url)) => Some(url.clone()),
            (Some(d), None) => Some(format!("sqlite://{}", d.path().display())),
            (None, None) => None,
        }
    }

    /// The directory of a file-backed SQLite store.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_ref().map(|d| d.path())
    }

    /// Whether this is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }
}

/// A message of `message_type` with `data`.
pub fn msg(message_type: &str, data: serde_json::Value) -> NewMessage {
    NewMessage::new(message_type, data).expect("valid message")
}

/// Generates one `#[tokio::test]` per scenario for a backend.
macro_rules! backend_suite {
    ($backend:ident, $fixture:expr) => {
        backend_suite!(@tests $backend, $fixture;
            writes::write_assigns_positions_and_a_uuid_v7,
            writes::write_keeps_a_given_id_and_refuses_a_duplicate,
            writes::expected_version_is_checked_atomically,
            writes::batch_is_contiguous_and_atomic,
            writes::bad_input_writes_nothing,
            writes::json_and_time_round_trip_exactly,
            reads::stream_reads_follow_position_rules,
            reads::last_message_and_version,
            reads::category_reads_follow_global_order_and_filters,
            reads::consumer_groups_split_streams_and_filter_before_the_limit,
            reads::batch_size_rules,
            reads::large_reads_equal_the_same_read_in_pages,
            namespaces::default_namespace_exists_and_namespaces_are_isolated,
            namespaces::create_keeps_only_the_token_hash,
            namespaces::list_info_and_delete_report_real_counts,
            namespaces::list_streams_and_categories,
            counts::counts_and_listings_follow_every_write,
            counts::counts_of_a_large_import,
            namespaces::namespace_ids_are_validated,
            import::import_keeps_positions_and_writes_continue_after,
            import::import_refuses_taken_positions_atomically,
            import::export_pages_in_global_order,
            subscriptions::stream_subscription_history_then_live,
            subscriptions::category_subscription_with_consumer_group,
            subscriptions::all_subscription_from_a_position,
            subscriptions::slow_subscriber_falls_back_to_storage,
            subscriptions::closing_the_store_ends_subscriptions,
            subscriptions::another_stores_commit_is_never_skipped,
            subscriptions::another_stores_commit_wakes_subscribers,
            errors::error_codes_and_messages,
            consumers::a_consumer_resumes_after_its_recorded_position,
            consumers::consumer_group_members_handle_every_message_once,
            consumers::a_whole_namespace_consumer_skips_records_and_flushes_when_idle,
            consumers::a_failing_message_is_retried_then_parked,
            consumers_more::parked_messages_are_replayed_or_discarded,
            consumers_more::one_instance_is_active_and_a_standby_takes_over,
            consumers_more::start_at_end_and_progress,
            consumers_more::a_stalled_consumer_never_blocks_writers,
            rules::bad_input_is_refused_alike_on_every_backend,
            rules::imported_positions_leave_room_to_write,
            rules::long_namespace_ids_never_collide,
            rules::a_namespace_created_again_elsewhere_is_never_reached_through_the_old,
            stress::racing_writers_have_one_winner_per_race,
            stress::whole_namespace_subscription_during_concurrent_writes,
            stress::reopened_store_has_every_acknowledged_write,
            stress::upgrade_from_migration_1_equals_fresh,
        );
    };
    (@tests $backend:ident, $fixture:expr; $($module:ident :: $name:ident),* $(,)?) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let fixture = $fixture.await;
                    crate::$module::$name(&fixture).await;
                }
            )*
        }
    };
}

backend_suite!(sqlite_memory, crate::Fixture::memory());
backend_suite!(sqlite_file, crate::Fixture::file());
backend_suite!(postgres, crate::Fixture::postgres());
