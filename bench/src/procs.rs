//! Child processes (mock, forwarder, gateway): started, waited for until they print their
//! listening line, measured through /proc, and stopped when dropped (SIGTERM, then SIGKILL).

use anyhow::{Context, bail};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A running child. Dropping it stops it.
pub struct Proc {
    /// What it is, for messages.
    pub name: String,
    /// The base URL from its listening line (`http://127.0.0.1:PORT`).
    pub url: String,
    /// Time from spawn to the listening line.
    pub to_listening: Duration,
    child: Child,
    /// Held open: the mock and the forwarder exit when it closes (see `--parent-watch`).
    _stdin: Option<ChildStdin>,
    stderr_file: Option<PathBuf>,
}

impl Proc {
    /// Spawns `cmd` and waits up to `timeout` for a stdout line `<prefix>http://...`. Its stderr
    /// goes to `stderr_file` when given (shown in errors), else to ours.
    pub fn start(
        name: &str,
        mut cmd: Command,
        prefix: &str,
        stderr_file: Option<&Path>,
        timeout: Duration,
    ) -> anyhow::Result<Proc> {
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
        match stderr_file {
            Some(p) => {
                let f =
                    std::fs::File::create(p).with_context(|| format!("create {}", p.display()))?;
                cmd.stderr(Stdio::from(f));
            }
            None => {
                cmd.stderr(Stdio::inherit());
            }
        }
        let started = Instant::now();
        let mut child = cmd
            .spawn()
            .with_context(|| format!("cannot start the {name}"))?;
        let stdout = child.stdout.take().context("no stdout pipe")?;
        let stdin = child.stdin.take();
        let (tx, rx) = mpsc::channel();
        let wanted = prefix.to_string();
        std::thread::spawn(move || {
            // Keep reading after the line so the child never blocks on a full pipe.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix(&wanted) {
                    let _ = tx.send(url.trim().to_string());
                }
            }
        });
        let mut proc = Proc {
            name: name.to_string(),
            url: String::new(),
            to_listening: Duration::ZERO,
            child,
            _stdin: stdin,
            stderr_file: stderr_file.map(Path::to_path_buf),
        };
        match rx.recv_timeout(timeout) {
            Ok(url) => {
                proc.to_listening = started.elapsed();
                proc.url = url;
                Ok(proc)
            }
            Err(_) => bail!(
                "the {name} printed no `{prefix}` line within {timeout:?}{}",
                proc.stderr_tail()
            ),
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A field of /proc/PID/status in kB (`VmRSS`, `VmHWM`).
    pub fn status_kb(&self, field: &str) -> anyhow::Result<u64> {
        let path = format!("/proc/{}/status", self.pid());
        let text = std::fs::read_to_string(&path).with_context(|| format!("read {path}"))?;
        text.lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .with_context(|| format!("no {field} in {path}"))
    }

    /// Fails if the process has exited.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("the {} exited ({status}){}", self.name, self.stderr_tail());
        }
        Ok(())
    }

    /// The last lines of the process's stderr file, as a suffix for an error message.
    pub fn stderr_tail(&self) -> String {
        let Some(path) = &self.stderr_file else {
            return String::new();
        };
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(10)..].join("\n");
        if tail.is_empty() {
            String::new()
        } else {
            format!("; its stderr ends with:\n{tail}")
        }
    }

    /// Lines of its stderr file that look like warnings or errors.
    pub fn stderr_warnings(&self) -> usize {
        let Some(path) = &self.stderr_file else {
            return 0;
        };
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("WARN") || l.contains("ERROR"))
            .count()
    }
}

impl Drop for Proc {
    /// SIGTERM, up to 5 s to exit (the gateway drains and flushes), then SIGKILL.
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The soft limit on open files of this process.
fn nofile_soft() -> anyhow::Result<u64> {
    let text = std::fs::read_to_string("/proc/self/limits")?;
    let line = text
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .context("no `Max open files` in /proc/self/limits")?;
    let soft = line.split_whitespace().nth(3).context("bad limits line")?;
    Ok(if soft == "unlimited" {
        u64::MAX
    } else {
        soft.parse()?
    })
}

/// Makes sure this process (and so its children) may open `needed` files: raises the soft limit
/// with `prlimit` if it is lower (up to the hard limit), and fails with a hint if that is not enough.
pub fn ensure_nofile(needed: u64) -> anyhow::Result<()> {
    if nofile_soft()? >= needed {
        return Ok(());
    }
    let pid = std::process::id().to_string();
    let _ = Command::new("prlimit")
        .args(["--pid", &pid, &format!("--nofile={needed}:")])
        .stderr(Stdio::null())
        .status();
    let now = nofile_soft()?;
    if now < needed {
        bail!(
            "the open-file limit is {now}, {needed} are needed: run `ulimit -n {needed}` first (as root if the hard limit is lower)"
        );
    }
    Ok(())
}

/// CPU time (user + system) that process `pid` has used so far, in µs.
pub fn cpu_us(pid: u32) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/stat");
    let text = std::fs::read_to_string(&path).with_context(|| format!("read {path}"))?;
    // Fields after the command name (which may hold spaces) start at field 3, `state`.
    let rest = text.rsplit_once(')').context("bad stat line")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| -> anyhow::Result<u64> {
        Ok(fields.get(i).context("short stat line")?.parse::<u64>()?)
    };
    // utime and stime are fields 14 and 15, i.e. 11 and 12 after `state` (field 3).
    let total = ticks(11)? + ticks(12)?;
    Ok(total * 1_000_000 / clock_ticks())
}

/// Clock ticks per second (`getconf CLK_TCK`, 100 on Linux in practice).
fn clock_ticks() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .filter(|&t| t > 0)
        .unwrap_or(100)
}
