//! Delivery lanes: one thread per core, each with a single-threaded tokio runtime and an HTTP
//! client of its own, that sign and send deliveries.
//!
//! Signing on the thread that sends, with that thread's own connections, costs a fan-out no
//! hand-over per delivery: on the async workers every POST passed the signature to a crypto
//! thread and back and woke connection tasks on other workers, and those wake-ups cost the
//! kernel more than the POST itself (docs/benchmarks.md, "Session 10"). A lane is not one of
//! the async workers that answer requests, so a signature never holds up a request.
//!
//! The delivery worker hands each lane a whole claimed batch at once (one wake-up per batch),
//! and every host always goes to the same lane, so its connections are reused and its turn
//! (`per_host_concurrency`) is kept within one thread.

use std::hash::{BuildHasher, RandomState};
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc};

/// What a lane gives each delivery it runs.
#[derive(Clone)]
pub(crate) struct Lane {
    /// The lane's own client (`fetch::client`), so its connections stay on its thread.
    pub client: reqwest::Client,
    /// Sends in flight on this lane at once (its share of `delivery_concurrency`).
    pub sending: Arc<Semaphore>,
}

pub(crate) type Job = Box<dyn FnOnce(Lane) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

pub(crate) struct Lanes {
    lanes: Vec<mpsc::UnboundedSender<Vec<Job>>>,
    hasher: RandomState,
}

impl Lanes {
    /// One lane per core, each sending at most its share of `concurrency` at once (at least
    /// one). Fails when a thread, its runtime or its client cannot be made.
    pub(crate) fn start(
        concurrency: usize,
        client: impl Fn() -> reqwest::Result<reqwest::Client>,
    ) -> std::io::Result<Self> {
        let count = std::thread::available_parallelism().map_or(2, |n| n.get());
        let per_lane = (concurrency / count).max(1);
        let mut lanes = Vec::with_capacity(count);
        for n in 0..count {
            let lane = Lane {
                client: client().map_err(std::io::Error::other)?,
                sending: Arc::new(Semaphore::new(per_lane)),
            };
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let (jobs, mut queue) = mpsc::unbounded_channel::<Vec<Job>>();
            std::thread::Builder::new()
                .name(format!("hromada-delivery-{n}"))
                .spawn(move || {
                    runtime.block_on(async move {
                        while let Some(batch) = queue.recv().await {
                            for job in batch {
                                tokio::spawn(job(lane.clone()));
                            }
                        }
                    });
                    // Dropping the runtime here cancels what is still in flight; those
                    // deliveries are sent again after their lease.
                })?;
            lanes.push(jobs);
        }
        Ok(Self {
            lanes,
            hasher: RandomState::new(),
        })
    }

    pub(crate) fn count(&self) -> usize {
        self.lanes.len()
    }

    /// The lane a host's deliveries always go to.
    pub(crate) fn of_host(&self, host: &str) -> usize {
        (self.hasher.hash_one(host) % self.lanes.len() as u64) as usize
    }

    /// Hands `jobs` to lane `lane`; `false` when its thread is gone.
    pub(crate) fn run(&self, lane: usize, jobs: Vec<Job>) -> bool {
        jobs.is_empty() || self.lanes.get(lane).is_some_and(|l| l.send(jobs).is_ok())
    }
}
