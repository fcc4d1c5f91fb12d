//! Node.js and Bun bindings of messagedb (napi-rs). Not built yet: a placeholder in the workspace layout.
