//! The results table (markdown) and the line that describes the machine.

use std::process::Command;

/// One line of the results table.
#[derive(Debug, Clone)]
pub struct Row {
    /// Scenario number and name.
    pub scenario: String,
    /// What was measured.
    pub measured: String,
    /// The value through Sluice.
    pub sluice: String,
    /// The value of the baseline (direct to the mock, or the bare forwarder).
    pub baseline: String,
    /// Ratio or difference of the two.
    pub diff: String,
    /// The target, or `—` for numbers reported for context.
    pub target: String,
    /// Whether the target was met (`None` when there is no target).
    pub met: Option<bool>,
}

impl Row {
    /// A row with no target.
    pub fn info(
        scenario: &str,
        measured: &str,
        sluice: String,
        baseline: String,
        diff: String,
    ) -> Row {
        Row {
            scenario: scenario.into(),
            measured: measured.into(),
            sluice,
            baseline,
            diff,
            target: "—".into(),
            met: None,
        }
    }

    /// Adds a target and whether it was met.
    pub fn target(mut self, target: &str, met: bool) -> Row {
        self.target = target.into();
        self.met = Some(met);
        self
    }
}

/// The rows as one markdown table.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| scenario | measured | Sluice | baseline | ratio / difference | target | met? |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "—",
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            r.scenario, r.measured, r.sluice, r.baseline, r.diff, r.target, met
        ));
    }
    out
}

/// `nproc`, CPU model, date and git commit, on one line.
pub fn machine_line() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let date =
        output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]).unwrap_or_else(|| "unknown date".into());
    let commit =
        output("git", &["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let dirty = output("git", &["status", "--porcelain", "--untracked-files=no"])
        .is_some_and(|s| !s.is_empty());
    let dirty = if dirty {
        " (with uncommitted changes)"
    } else {
        ""
    };
    format!("Machine: nproc {cpus}, {model}; {date}; commit {commit}{dirty}.")
}

/// The 1-minute load average (how busy the shared machine was), from /proc/loadavg.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| t.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// When `path` was last modified, as `YYYY-MM-DD HH:MM UTC` (via `date -r`).
pub fn modified(path: &std::path::Path) -> String {
    let p = path.display().to_string();
    output("date", &["-u", "-r", &p, "+%Y-%m-%d %H:%M UTC"]).unwrap_or_else(|| "?".into())
}

/// The trimmed stdout of a command, if it ran and succeeded.
fn output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Formats µs with a sign, for differences.
pub fn signed_us(us: i64) -> String {
    format!("{us:+} µs")
}

/// Formats µs.
pub fn us(v: u64) -> String {
    format!("{v} µs")
}

/// Formats kB as MB with one decimal.
pub fn mb(kb: u64) -> String {
    format!("{:.1} MB", kb as f64 / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_header_and_rows() {
        let rows = vec![
            Row::info("1", "p50", us(10), us(5), signed_us(5)).target("<= 50 µs", true),
            Row::info("1", "x", "a".into(), "b".into(), "c".into()),
        ];
        let t = table(&rows);
        assert_eq!(t.lines().count(), 4);
        assert!(t.contains("| 1 | p50 | 10 µs | 5 µs | +5 µs | <= 50 µs | yes |"));
        assert!(t.contains("| — |\n"));
    }
}
