//! Prometheus metrics: requests by method and code, write and read latency histograms, open
//! subscriptions, messages written.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{OnceLock, RwLock};
use std::time::Duration;

use axum::http::StatusCode;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Latency buckets, in seconds.
const BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// The process-wide recorder (several in-process servers share it).
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets(BUCKETS)
            .expect("static buckets are valid");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (an embedding application's); ours still
        // renders what it records through `metrics::with_local_recorder` callers, so ignore.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// How often the histograms' samples are folded into their buckets.
const UPKEEP: Duration = Duration::from_secs(5);

/// Folds the histograms' recorded samples into their buckets every few seconds until `stop`
/// flips. The exporter keeps every sample until then (or until a scrape): without this, a busy
/// server that nobody scrapes would grow by a few dozen bytes per request, without bound.
pub async fn upkeep(mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            () = tokio::time::sleep(UPKEEP) => handle().run_upkeep(),
        }
    }
}

/// The metric handles of one method and status, looked up in the registry once.
#[derive(Clone)]
struct Handles {
    requests: metrics::Counter,
    latency: Option<metrics::Histogram>,
}

impl Handles {
    fn new(method: &str, code: u16) -> Self {
        let labels = [("method", method.to_string()), ("code", code.to_string())];
        let kind = match method {
            "stream.write" | "stream.writeBatch" => Some("messagedb_write_duration_seconds"),
            "stream.get" | "stream.last" | "stream.version" | "category.get" => {
                Some("messagedb_read_duration_seconds")
            }
            _ => None,
        };
        Handles {
            requests: metrics::counter!("messagedb_rpc_requests_total", &labels),
            latency: kind.map(|k| metrics::histogram!(k, "method" => method.to_string())),
        }
    }
}

/// The server's metrics.
pub struct Metrics {
    open_subscriptions: AtomicI64,
    /// By method, then status code.
    handles: RwLock<HashMap<String, HashMap<u16, Handles>>>,
    written: metrics::Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        handle();
        Metrics {
            open_subscriptions: AtomicI64::new(0),
            handles: RwLock::new(HashMap::new()),
            written: metrics::counter!("messagedb_messages_written_total"),
        }
    }
}

impl Metrics {
    /// Records one RPC call (`method` is a method the server has, `unknown` or `-`).
    pub fn rpc(&self, method: &str, status: StatusCode, took: Duration) {
        let code = status.as_u16();
        let cached = self
            .handles
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(method)
            .and_then(|by_code| by_code.get(&code))
            .cloned();
        let handles = match cached {
            Some(h) => h,
            None => {
                let h = Handles::new(method, code);
                self.handles
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .entry(method.to_string())
                    .or_default()
                    .insert(code, h.clone());
                h
            }
        };
        handles.requests.increment(1);
        if let Some(latency) = &handles.latency {
            latency.record(took.as_secs_f64());
        }
    }

    /// Counts messages written.
    pub fn written(&self, n: u64) {
        self.written.increment(n);
    }

    /// A subscription opened; the guard closes it when dropped.
    pub fn subscription(self: &std::sync::Arc<Self>) -> SubscriptionGuard {
        let n = self.open_subscriptions.fetch_add(1, Ordering::AcqRel) + 1;
        metrics::gauge!("messagedb_open_subscriptions").set(n as f64);
        SubscriptionGuard(self.clone())
    }

    /// How many subscriptions are open.
    pub fn open_subscriptions(&self) -> i64 {
        self.open_subscriptions.load(Ordering::Acquire)
    }

    /// The Prometheus text.
    pub fn render(&self) -> String {
        handle().render()
    }
}

/// Keeps a subscription counted while it lives.
pub struct SubscriptionGuard(std::sync::Arc<Metrics>);

impl Drop for SubscriptionGuard {
    fn drop(&mut self) {
        let n = self.0.open_subscriptions.fetch_sub(1, Ordering::AcqRel) - 1;
        metrics::gauge!("messagedb_open_subscriptions").set(n as f64);
    }
}
