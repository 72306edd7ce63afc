//! Read-only connections that run a whole read of several statements as one job on a blocking
//! thread (rusqlite, the same SQLite library sqlx links).
//!
//! sqlx's SQLite driver gives every connection a thread of its own and makes each statement,
//! and each row, a hand-over to that thread and back. Through sqlx a search was several such
//! hand-overs, each waking a sleeping thread, and together they took longer than the
//! statements (`docs/benchmarks.md`, session 6). Here a job goes to a blocking thread once,
//! runs its statements and reads its rows there, and comes back once.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use hromada_store::{StoreError, StoreResult};
use rusqlite::{Connection, OpenFlags};
use tokio::sync::Semaphore;

use crate::{BUSY_TIMEOUT, MMAP_BYTES, READERS};

/// Where the connections read from.
#[derive(Debug)]
enum Source {
    File(PathBuf),
    /// A shared-cache in-memory database, by the name sqlx opened it under.
    Memory(String),
}

#[derive(Debug)]
pub(crate) struct Readers {
    source: Source,
    /// At most this many jobs at once (and so connections): a flood of searches queues here
    /// instead of opening a connection and a blocking thread for each.
    turns: Arc<Semaphore>,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    pub(crate) fn file(path: &Path) -> Arc<Self> {
        Self::new(Source::File(path.to_path_buf()))
    }

    pub(crate) fn memory(name: &str) -> Arc<Self> {
        Self::new(Source::Memory(name.to_string()))
    }

    fn new(source: Source) -> Arc<Self> {
        Arc::new(Self {
            source,
            turns: Arc::new(Semaphore::new(READERS as usize)),
            idle: Mutex::new(Vec::new()),
        })
    }

    /// Closes the idle connections; jobs after this fail.
    pub(crate) fn close(&self) {
        self.turns.close();
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
    }

    /// Runs `job` on a read-only connection on a blocking thread.
    pub(crate) async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        job: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> StoreResult<T> {
        let readers = self.clone();
        let turn = self
            .turns
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Database("the database is closed".into()))?;
        tokio::task::spawn_blocking(move || {
            let _turn = turn;
            let taken = readers.idle.lock().ok().and_then(|mut idle| idle.pop());
            let conn = match taken {
                Some(conn) => conn,
                None => readers.open().map_err(read_err)?,
            };
            let out = job(&conn);
            if let Ok(mut idle) = readers.idle.lock() {
                idle.push(conn);
            }
            out
        })
        .await
        .map_err(|e| StoreError::Database(format!("a database read stopped: {e}")))?
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = match &self.source {
            Source::File(path) => Connection::open_with_flags(path, flags)?,
            Source::Memory(name) => {
                let conn = Connection::open_with_flags(
                    name,
                    flags | OpenFlags::SQLITE_OPEN_MEMORY | OpenFlags::SQLITE_OPEN_SHARED_CACHE,
                )?;
                // In shared-cache mode a reader would otherwise take table locks that make the
                // writer's connection fail with SQLITE_LOCKED instead of waiting.
                conn.pragma_update(None, "read_uncommitted", true)?;
                conn
            }
        };
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "query_only", true)?;
        conn.pragma_update(None, "mmap_size", MMAP_BYTES)?;
        Ok(conn)
    }
}

/// A failed read: values that do not decode are corrupt data, the rest database trouble.
pub(crate) fn read_err(e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::InvalidColumnType(..)
        | rusqlite::Error::IntegralValueOutOfRange(..) => StoreError::Corrupt(e.to_string()),
        e => StoreError::Database(e.to_string()),
    }
}
