//! The peers lane's table: one row per measure, one column per target (direct to the mock, the
//! bare forwarder, Sluice, LiteLLM, Portkey), then notes on failures and error samples.

use super::{CONC, Col, Role, sizes};
use crate::report::mb;
use crate::scenarios::median;
use crate::stats::{Report, Sorted};

/// The cell of a column that was not measured: the first line of the reason, shortened.
fn failed_cell(reason: &str) -> String {
    let first = reason.lines().next().unwrap_or(reason);
    let short: String = first.chars().take(110).collect();
    let more = if short.len() < first.len() { "…" } else { "" };
    format!("not measured: {}{more}", short.replace('|', "/"))
}

/// `ms` with one decimal from µs.
fn ms(us: u64) -> String {
    format!("{:.1} ms", us as f64 / 1e3)
}

/// A latency cell: the median over rounds, and the median of paired differences with direct.
fn latency(c: &Col, direct: &[i64], p99: bool) -> String {
    let v = if p99 { &c.found.p99 } else { &c.found.p50 };
    if v.is_empty() {
        return "—".into();
    }
    let own = median(v.clone()).max(0);
    let mut cell = format!("{own} µs");
    if c.role != Role::Direct && !direct.is_empty() {
        let d = median(v.iter().zip(direct).map(|(a, b)| a - b).collect());
        cell.push_str(&format!(" (**{d:+} µs**)"));
    }
    cell
}

/// A throughput cell: req/s with p50/p99, and the ratio to the forwarder.
fn rps(r: &Report, fwd: Option<&Report>) -> String {
    // `fwd` is None for the baselines themselves.
    if r.count() == 0 && r.errors == 0 {
        return "—".into();
    }
    let l = Sorted::new(&r.latency_us);
    let mut cell = format!(
        "{:.0} req/s (p50 {}, p99 {})",
        r.rps(),
        ms(l.pct(50.0)),
        ms(l.pct(99.0))
    );
    if let Some(f) = fwd
        && f.rps() > 0.0
    {
        let ratio = r.rps() / f.rps();
        let digits = if ratio < 0.1 { 3 } else { 2 };
        cell.push_str(&format!(", **{ratio:.digits$}x**"));
    }
    cell
}

/// Appends the number of failed requests to a cell, if any.
fn errs(cell: String, errors: u64) -> String {
    if errors > 0 {
        format!("{cell}; {errors} errors")
    } else {
        cell
    }
}

/// The table and its notes.
pub fn render(cols: &[Col], smoke: bool) -> String {
    let (_, rounds, n, secs, tp_rounds, streams) = sizes(smoke);
    let mut out = String::from("| measured |");
    for c in cols {
        out.push_str(&format!(" {} |", c.name));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(cols.len()));
    out.push('\n');
    let direct = cols[0].found.p50.clone();
    let direct99 = cols[0].found.p99.clone();
    let fwd = cols.get(1).map(|c| c.found.rps.clone());
    let mut row = |label: String, cell: &dyn Fn(&Col) -> String| {
        out.push_str(&format!("| {label} |"));
        for c in cols {
            let text = match &c.failed {
                Some(r) => failed_cell(r),
                None => cell(c),
            };
            out.push_str(&format!(" {text} |"));
        }
        out.push('\n');
    };
    let of = format!("median of {rounds} rounds of {n}");
    row(
        format!("p50 latency at c=1, JSON chat (2 KB, 10 headers), {of}; (added vs direct)"),
        &|c| errs(latency(c, &direct, false), c.found.lat_errors),
    );
    row(
        format!("p99 latency at c=1, {of}; (added vs direct)"),
        &|c| latency(c, &direct99, true),
    );
    for (i, conc) in CONC.into_iter().enumerate() {
        row(
            format!(
                "req/s at c={conc}, upstream delay 0 ms, {tp_rounds} x {secs} s; (ratio to the forwarder)"
            ),
            &|c| {
                let f = fwd.as_ref().map(|f| &f[i].0);
                let (r, _) = &c.found.rps[i];
                // The mock's own capacity and the forwarder are the baselines: no ratio.
                let f = if c.role == Role::Gateway { f } else { None };
                errs(rps(r, f), r.errors)
            },
        );
    }
    row(
        format!(
            "CPU per request at c={}, serving process tree (direct: the mock)",
            CONC[1]
        ),
        &|c| {
            let (r, cpu) = &c.found.rps[1];
            match r.count() {
                0 => "—".into(),
                k => format!("{} µs", cpu / k),
            }
        },
    );
    row(
        format!("{streams} concurrent SSE streams (20 chunks back to back): completed, wall time"),
        &|c| match &c.found.stream {
            Some(r) => errs(
                format!(
                    "{}/{streams} in {:.2} s",
                    r.streams_completed,
                    r.elapsed.as_secs_f64()
                ),
                r.errors,
            ),
            None => "—".into(),
        },
    );
    row(
        format!("stream time to first byte, {streams} at once"),
        &|c| match &c.found.stream {
            Some(r) if !r.ttfb_us.is_empty() => {
                let t = Sorted::new(&r.ttfb_us);
                format!("p50 {}, p99 {}", ms(t.pct(50.0)), ms(t.pct(99.0)))
            }
            _ => "—".into(),
        },
    );
    row(
        "spawn → ready (first 200; the forwarder: listening line)".into(),
        &|c| match (c.pid, c.found.ready) {
            (Some(_), Some((t, _))) => format!("{} ms", t.as_millis()),
            _ => "—".into(),
        },
    );
    row(
        "RSS idle after start (process tree)".into(),
        &|c| match c.found.ready {
            Some((_, kb)) if c.role != Role::Direct => mb(kb),
            _ => "—".into(),
        },
    );
    row(
        "peak RSS over the lane (VmHWM summed over the process tree)".into(),
        &|c| match c.found.rss {
            Some((hwm, _, n)) if n > 1 => format!("{} ({n} processes)", mb(hwm)),
            Some((hwm, _, _)) => mb(hwm),
            None => "—".into(),
        },
    );
    row(
        "RSS after the load (process tree)".into(),
        &|c| match c.found.rss {
            Some((_, rss, _)) => mb(rss),
            None => "—".into(),
        },
    );
    for c in cols {
        if let Some(r) = &c.failed {
            out.push_str(&format!("\n{} was not measured: {}\n", c.name, r.trim()));
        } else if !c.found.samples.is_empty() {
            out.push_str(&format!(
                "\n{} errors, e.g.: {}\n",
                c.name,
                c.found.samples.join(" / ")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_cells_are_short_and_safe() {
        let c = failed_cell(&format!("install failed | {}\nmore", "x".repeat(200)));
        assert!(c.starts_with("not measured: install failed / x"));
        assert!(c.ends_with('…'));
        assert!(!c.contains('\n'));
    }
}
