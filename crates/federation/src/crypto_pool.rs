//! A few threads for RSA, so signing, parsing keys and long-key verifications never block the
//! async workers (a verification with an already parsed key of up to 4096 bits runs in place:
//! see `signing.rs`).
//!
//! One thread per core, fed through one queue: a flood of inbox posts queues here instead of
//! growing tokio's blocking pool to hundreds of threads (one per concurrent job, up to 512),
//! and the RSA never competes with more threads than there are cores. (Which of the two is
//! faster per job is not measured yet, see `docs/benchmarks.md`.)

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use crate::signing::SignError;

type Job = Box<dyn FnOnce() + Send>;

pub(crate) struct CryptoPool {
    jobs: Mutex<Sender<Job>>,
}

impl CryptoPool {
    pub(crate) fn new() -> Self {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let (tx, rx) = channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for n in 0..threads {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("hromada-crypto-{n}"))
                .spawn(move || work(&rx));
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "could not start a crypto thread");
            }
        }
        Self {
            jobs: Mutex::new(tx),
        }
    }

    /// Runs `f` on a crypto thread and waits for its result without blocking this one.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, SignError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        let queued = self
            .jobs
            .lock()
            .map_err(|_| SignError::Task("crypto pool poisoned".into()))?
            .send(job);
        if queued.is_err() {
            return Err(SignError::Task("no crypto thread is running".into()));
        }
        rx.await
            .map_err(|_| SignError::Task("the crypto job failed".into()))
    }
}

/// Takes jobs until the pool (the only sender) is dropped.
fn work(jobs: &Mutex<Receiver<Job>>) {
    loop {
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        match job {
            // A panicking job drops its answer channel, which its caller reports.
            Ok(job) => {
                let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
            }
            Err(_) => return,
        }
    }
}
