//! Processes under test: starting `hromada serve` and the bare servers as child processes,
//! reading their memory and CPU time from `/proc`, and stopping them.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context;

use crate::load;

/// A child process that is killed when dropped, so an aborted run leaves nothing behind.
pub struct Server {
    pub name: String,
    pub addr: SocketAddr,
    child: Child,
}

impl Server {
    /// Starts `program args` with `envs`, output discarded, and waits until `GET ready_path`
    /// answers 200.
    pub async fn start(
        name: &str,
        program: &Path,
        args: &[&str],
        envs: &[(String, String)],
        addr: SocketAddr,
        ready_path: &str,
    ) -> anyhow::Result<Self> {
        let child = Command::new(program)
            .args(args)
            .envs(envs.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            // The node logs every request (its default level is info), as in production; the
            // cost stays in, the text is dropped. HROMADA_BENCH_SHOW_OUTPUT=1 shows it.
            .stdout(output())
            .stderr(output())
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        let server = Self {
            name: name.to_string(),
            addr,
            child,
        };
        load::wait_ready(addr, ready_path, Duration::from_secs(60)).await?;
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn memory(&self) -> Memory {
        Memory::of(self.pid())
    }

    /// User + system CPU time the process has used so far.
    pub fn cpu(&self) -> Duration {
        cpu_time(self.pid())
    }

    /// CPU time so far by thread name ([`cpu_by_thread`]).
    pub fn cpu_by_thread(&self) -> BTreeMap<String, Duration> {
        cpu_by_thread(self.pid())
    }

    /// The kernel's part of [`Server::cpu`].
    pub fn system_cpu(&self) -> Duration {
        user_and_system_time(self.pid()).1
    }

    /// SIGTERM, then a bounded wait, then SIGKILL.
    pub fn stop(mut self) {
        terminate(&mut self.child);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn terminate(child: &mut Child) {
    let pid = child.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    for _ in 0..100 {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn output() -> Stdio {
    if std::env::var_os("HROMADA_BENCH_SHOW_OUTPUT").is_some() {
        Stdio::inherit()
    } else {
        Stdio::null()
    }
}

/// Resident memory of a process: now and its peak, in KiB.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    pub rss_kib: u64,
    pub hwm_kib: u64,
}

impl Memory {
    pub fn of(pid: u32) -> Self {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        Self {
            rss_kib: field("VmRSS:"),
            hwm_kib: field("VmHWM:"),
        }
    }

    pub fn rss_mb(&self) -> f64 {
        self.rss_kib as f64 / 1024.0
    }

    pub fn hwm_mb(&self) -> f64 {
        self.hwm_kib as f64 / 1024.0
    }
}

/// utime + stime of a process, from `/proc/PID/stat` (clock ticks of 1/100 s on Linux).
pub fn cpu_time(pid: u32) -> Duration {
    let (user, system) = user_and_system_time(pid);
    user + system
}

/// utime and stime of a process apart: the kernel's part includes, on loopback, the receiver's
/// TCP input that the sender's `write` runs (this kernel does not account softirq time apart).
pub fn user_and_system_time(pid: u32) -> (Duration, Duration) {
    stat_times(&std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default())
}

/// CPU time (user + system) of a process's threads by name, with a trailing number cut so that
/// `hromada-delivery-0` and `-1` count together (the kernel keeps a name's first 15 bytes:
/// `hromada-deliver`, `sqlx-sqlite-wor`). Threads that ended are not counted.
pub fn cpu_by_thread(pid: u32) -> BTreeMap<String, Duration> {
    let mut by_name = BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return by_name;
    };
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        let name = stat
            .split_once('(')
            .and_then(|(_, rest)| rest.rsplit_once(')'))
            .map_or("?", |(name, _)| name)
            .trim_end_matches(|c: char| c.is_ascii_digit() || c == '-');
        let (user, system) = stat_times(&stat);
        *by_name.entry(name.to_string()).or_default() += user + system;
    }
    by_name
}

fn stat_times(stat: &str) -> (Duration, Duration) {
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        let n = fields.get(i).and_then(|v| v.parse::<u64>().ok());
        Duration::from_millis(n.unwrap_or(0) * 10)
    };
    // utime and stime are fields 14 and 15 of stat; `after` starts at field 3.
    (ticks(11), ticks(12))
}

/// A free loopback port (bound and released; the caller binds it again at once).
pub fn free_addr() -> anyhow::Result<SocketAddr> {
    let l = TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?)
}

/// The `hromada` binary: the one given, or the one next to this executable.
pub fn hromada_binary(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(p) = given {
        return Ok(p.to_path_buf());
    }
    let me = std::env::current_exe()?;
    let candidate = me
        .parent()
        .map(|d| d.join("hromada"))
        .filter(|p| p.exists());
    candidate.ok_or_else(|| {
        anyhow::anyhow!(
            "the `hromada` binary is not next to {}; build it first (scripts/bench does) or pass --hromada PATH",
            me.display()
        )
    })
}
