//! The messagedb HTTP server: EventoDB-compatible RPC (`/rpc`), Server-Sent Events
//! (`/subscribe`), NDJSON import (`/import`), health, version and Prometheus metrics, over the
//! `messagedb` core. Handlers only parse, call core and encode.
//!
//! [`start`] runs it in-process (the npm and Python packages' `serve()` use it); the `messagedb`
//! binary adds the command line.
#![forbid(unsafe_code)]

mod app;
mod auth;
mod consumers;
mod error;
mod import;
mod metrics;
mod rpc;
mod sse;
mod state;
mod threads;
pub mod transfer;

pub use app::{LOOPBACK, RunningServer, ServeConfig, StartError, redact_url, start};
