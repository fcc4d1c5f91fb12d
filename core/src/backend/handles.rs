//! The namespace handles a backend keeps, and the one rule that keeps several processes on one
//! database from acting on a namespace that is gone (design.md, Guarantee 5): a handle is trusted
//! for [`token::TRUST`] after the registry last confirmed it, then the backend reads the registry
//! again. A namespace deleted, or deleted and created again, by another process is then a
//! different incarnation (a PostgreSQL schema name, a SQLite creation time): the old handle is
//! closed, which ends its subscriptions, and a new one serves the namespace.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use crate::{Result, token};

/// A namespace's storage that can be closed (its subscriptions end).
pub(crate) trait Closable {
    fn close(&self);
}

struct Handle<N, K> {
    ns: Arc<N>,
    /// Which namespace of this id the handle serves.
    incarnation: K,
    /// When the registry last said it was the namespace's (taken before the read).
    checked: Instant,
}

/// Handles by namespace id.
pub(crate) struct Handles<N, K> {
    map: RwLock<HashMap<String, Handle<N, K>>>,
    /// Whether other processes can share the storage; handles of storage nobody else reaches
    /// (memory) are trusted for as long as they live.
    shared: bool,
}

impl<N: Closable, K: PartialEq> Handles<N, K> {
    pub(crate) fn new(shared: bool) -> Self {
        Handles {
            map: RwLock::new(HashMap::new()),
            shared,
        }
    }

    /// The handle of `id` when it may be used without asking the registry.
    pub(crate) fn fresh(&self, id: &str) -> Option<Arc<N>> {
        let map = self.map.read().unwrap_or_else(|p| p.into_inner());
        let h = map.get(id)?;
        (!self.shared || h.checked.elapsed() < token::TRUST).then(|| h.ns.clone())
    }

    /// The handle of `id`, whatever its age.
    pub(crate) fn get(&self, id: &str) -> Option<Arc<N>> {
        let map = self.map.read().unwrap_or_else(|p| p.into_inner());
        map.get(id).map(|h| h.ns.clone())
    }

    /// What the registry said at `asked`: `id` is the namespace `incarnation`. Keeps the handle
    /// held when it serves that incarnation, else closes it and keeps a new one from `open`.
    pub(crate) fn confirm(
        &self,
        id: &str,
        incarnation: K,
        asked: Instant,
        open: impl FnOnce() -> Result<Arc<N>>,
    ) -> Result<Arc<N>> {
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        if let Some(h) = map.get_mut(id) {
            if h.incarnation == incarnation {
                h.checked = h.checked.max(asked);
                return Ok(h.ns.clone());
            }
            h.ns.close();
            map.remove(id);
        }
        let ns = open()?;
        let handle = Handle {
            ns: ns.clone(),
            incarnation,
            checked: asked,
        };
        map.insert(id.into(), handle);
        Ok(ns)
    }

    /// Closes and drops the handles whose storage `gone` says is gone.
    pub(crate) fn forget_where(&self, gone: impl Fn(&str, &N) -> bool) {
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        map.retain(|id, h| {
            let gone = gone(id, &h.ns);
            if gone {
                h.ns.close();
            }
            !gone
        });
    }

    /// Closes and drops the handle of `id` (the namespace is gone).
    pub(crate) fn forget(&self, id: &str) {
        self.forget_where(|held, _| held == id);
    }

    /// Calls `f` on every handle.
    pub(crate) fn each(&self, f: impl Fn(&N)) {
        let map = self.map.read().unwrap_or_else(|p| p.into_inner());
        for h in map.values() {
            f(&h.ns);
        }
    }

    /// Every handle, for work that awaits (`each` holds the map's lock while it runs).
    pub(crate) fn all(&self) -> Vec<Arc<N>> {
        let map = self.map.read().unwrap_or_else(|p| p.into_inner());
        map.values().map(|h| h.ns.clone()).collect()
    }

    /// Closes and drops every handle (the store closes).
    pub(crate) fn close_all(&self) {
        self.forget_where(|_, _| true);
    }
}
