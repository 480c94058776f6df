//! Locking the engine's small shared maps.

use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, taking over a poisoned one: the maps it guards stay
/// consistent between statements, so a panic elsewhere leaves nothing half
/// done, and the cache must not fail requests because of it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
