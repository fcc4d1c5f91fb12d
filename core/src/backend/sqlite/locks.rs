//! Consumer locks of a SQLite namespace (consumers.md, "One active instance"): an exclusive lock
//! on a file beside the namespace database, which the operating system releases when its holder
//! closes it or dies (`flock`: two opens conflict even in one process); in memory, a set of held
//! identities in this process.

use std::collections::HashSet;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use crate::backend::ConsumerLock;
use crate::{Error, Result, names};

/// Where a namespace's consumer locks live.
pub(crate) enum ConsumerLocks {
    /// In this process (an in-memory namespace).
    Memory(Arc<Mutex<HashSet<String>>>),
    /// Files in this folder, beside the database.
    Files(PathBuf),
}

impl ConsumerLocks {
    /// The locks of the database at `path` (`None` = in memory).
    pub(crate) fn of(path: Option<&Path>) -> Self {
        match path {
            None => ConsumerLocks::Memory(Arc::default()),
            Some(p) => ConsumerLocks::Files(folder_of(p)),
        }
    }

    /// Takes `key`'s lock, trying every `poll`.
    pub(crate) async fn lock(&self, key: &str, poll: Duration) -> Result<Box<dyn ConsumerLock>> {
        loop {
            if let Some(lock) = self.try_lock(key)? {
                return Ok(lock);
            }
            tokio::time::sleep(poll).await;
        }
    }

    fn try_lock(&self, key: &str) -> Result<Option<Box<dyn ConsumerLock>>> {
        match self {
            ConsumerLocks::Memory(held) => {
                let mut set = held.lock().unwrap_or_else(|p| p.into_inner());
                if !set.insert(key.to_owned()) {
                    return Ok(None);
                }
                Ok(Some(Box::new(MemoryLock {
                    held: held.clone(),
                    key: key.to_owned(),
                })))
            }
            ConsumerLocks::Files(folder) => {
                let io = |e: std::io::Error| {
                    Error::backend(format!("a consumer lock in {}", folder.display()), true, e)
                };
                std::fs::create_dir_all(folder).map_err(io)?;
                // Stream names may hold any character; the file is named by a hash of it.
                let name = format!("{:016x}.lock", names::hash_64(key).cast_unsigned());
                let file = OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(folder.join(name))
                    .map_err(io)?;
                match file.try_lock() {
                    Ok(()) => Ok(Some(Box::new(FileLock { _file: file }))),
                    Err(TryLockError::WouldBlock) => Ok(None),
                    Err(TryLockError::Error(e)) => Err(io(e)),
                }
            }
        }
    }
}

/// The folder of a database's consumer locks: `<database>.consumers`.
pub(crate) fn folder_of(database: &Path) -> PathBuf {
    let mut p = database.as_os_str().to_owned();
    p.push(".consumers");
    PathBuf::from(p)
}

struct MemoryLock {
    held: Arc<Mutex<HashSet<String>>>,
    key: String,
}

impl Drop for MemoryLock {
    fn drop(&mut self) {
        self.held
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.key);
    }
}

#[async_trait]
impl ConsumerLock for MemoryLock {
    async fn held(&self, _within: Duration) -> bool {
        true
    }
}

/// Held while the file is open; closing it (drop, or the process dying) releases it.
struct FileLock {
    _file: File,
}

#[async_trait]
impl ConsumerLock for FileLock {
    async fn held(&self, _within: Duration) -> bool {
        true
    }
}
