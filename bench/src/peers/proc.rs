//! The peers' processes: installs run with a deadline, servers started in a process group of
//! their own (stopped as a group when dropped), readiness probes, and measures of a process
//! tree through /proc (a peer may fork workers).

use crate::load::{self, LoadConfig};
use crate::procs;
use anyhow::{Context, bail};
use std::collections::HashMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where the peers are installed: `.cache/peers` of the repository (gitignored).
pub fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."))
        .join(".cache/peers")
}

/// Runs an install command with its output in `log`, failing after `deadline` (the command is
/// killed then) or on a non-zero exit, with the log's tail.
pub async fn install(
    what: &str,
    mut cmd: tokio::process::Command,
    log: &Path,
    deadline: Duration,
) -> anyhow::Result<()> {
    let out = std::fs::File::create(log).with_context(|| format!("create {}", log.display()))?;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(out.try_clone()?))
        .stderr(Stdio::from(out))
        .kill_on_drop(true);
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot run the {what} install"))?;
    match tokio::time::timeout(deadline, child.wait()).await {
        Ok(status) => {
            let status = status?;
            if !status.success() {
                bail!("{what} install failed ({status}){}", tail(log));
            }
            Ok(())
        }
        Err(_) => {
            let _ = child.kill().await;
            bail!("{what} install took longer than {deadline:?}{}", tail(log))
        }
    }
}

/// The last lines of a log file, as a suffix for an error message.
pub fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = lines[lines.len().saturating_sub(6)..].join("\n");
    if tail.is_empty() {
        String::new()
    } else {
        format!("; {} ends with:\n{tail}", log.display())
    }
}

/// A free port on 127.0.0.1 (bound, then released for the peer to take).
pub fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// A peer's server, in a process group of its own. Dropping it stops the whole group.
pub struct PeerProc {
    /// What it is, for messages.
    pub name: String,
    /// Its base URL.
    pub url: String,
    /// Spawn to the first successful chat request.
    pub to_ready: Duration,
    child: Child,
    log: PathBuf,
}

impl PeerProc {
    /// Spawns `cmd` (output to `log`) in a new process group and waits up to `deadline` until
    /// `probe` (a one-request load against it) succeeds.
    pub async fn start(
        name: &str,
        mut cmd: Command,
        url: String,
        log: &Path,
        probe: LoadConfig,
        deadline: Duration,
    ) -> anyhow::Result<PeerProc> {
        let out =
            std::fs::File::create(log).with_context(|| format!("create {}", log.display()))?;
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(out.try_clone()?))
            .stderr(Stdio::from(out))
            .process_group(0);
        let started = Instant::now();
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start {name}"))?;
        let mut proc = PeerProc {
            name: name.to_string(),
            url,
            to_ready: Duration::ZERO,
            child,
            log: log.to_path_buf(),
        };
        loop {
            let rep = load::run(&probe).await?;
            if rep.count() == 1 {
                proc.to_ready = started.elapsed();
                return Ok(proc);
            }
            if let Some(status) = proc.child.try_wait()? {
                bail!("{name} exited ({status}) before answering{}", tail(log));
            }
            if started.elapsed() > deadline {
                bail!(
                    "{name} did not answer within {deadline:?} (last: {:?}){}",
                    rep.error_samples.first(),
                    tail(log)
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The process id (and process group id).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Fails if the server has exited.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("{} exited ({status}){}", self.name, tail(&self.log));
        }
        Ok(())
    }
}

/// Sends `signal` to the process group `pgid`.
fn kill_group(signal: &str, pgid: u32) {
    let _ = Command::new("kill")
        .args([signal, "--", &format!("-{pgid}")])
        .stderr(Stdio::null())
        .status();
}

impl Drop for PeerProc {
    /// SIGTERM to the group, up to 5 s for the leader to exit, then SIGKILL to the group.
    fn drop(&mut self) {
        let pgid = self.child.id();
        kill_group("-TERM", pgid);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // Workers the leader left behind go too.
        kill_group("-KILL", pgid);
        let _ = self.child.wait();
    }
}

/// `pid` and all its descendants (from the parent ids in /proc/*/stat).
pub fn tree(pid: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(p) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        // Fields after the command name: state, ppid, ...
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u32>().ok());
        if let Some(ppid) = ppid {
            children.entry(ppid).or_default().push(p);
        }
    }
    let mut out = vec![pid];
    let mut i = 0;
    while i < out.len() {
        out.extend(children.get(&out[i]).into_iter().flatten().copied());
        i += 1;
    }
    out
}

/// A field of /proc/PID/status in kB (`VmRSS`, `VmHWM`), 0 if the process is gone.
fn status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The sum of a /proc status field over the tree of `pid`, and how many processes it has.
pub fn tree_kb(pid: u32, field: &str) -> (u64, usize) {
    let t = tree(pid);
    (t.iter().map(|&p| status_kb(p, field)).sum(), t.len())
}

/// CPU time used so far by the tree of `pid` (processes alive now), in µs.
pub fn tree_cpu_us(pid: u32) -> u64 {
    tree(pid)
        .iter()
        .filter_map(|&p| procs::cpu_us(p).ok())
        .sum()
}
