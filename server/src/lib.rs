//! The messagedb HTTP server: EventoDB-compatible RPC, Server-Sent Events and import/export.
//!
//! Not built yet; this crate is a placeholder in the workspace layout of design.md.
#![forbid(unsafe_code)]
