//! `sluice plugin check`: what a component is, which stage worlds of which contract version it
//! implements, what it imports and exports, and whether this gateway would load it (and why not).
//! With a config it also probes whether the plugin keeps state in its instance ([`super::probe`])
//! and warns when it does: a fresh instance starts without it at every request.

use super::engine::{Runtime, RuntimeLimits};
use super::plugin::World;
use super::probe::Probe;
use super::worlds::{AdapterPre, AuthPre, EnrichPre, PolicyPre};
use super::{AdapterWorld, AuthWorld, EnrichWorld, GuardWorld, McpPolicyWorld, PolicyWorld};
use std::fmt::Write;

/// What a component is, as far as the gateway is concerned.
#[derive(Debug)]
pub struct Report {
    /// Its size.
    pub bytes: usize,
    /// What it imports (interface names).
    pub imports: Vec<String>,
    /// What it exports.
    pub exports: Vec<String>,
    /// The stages it can serve, with the contract version of each (`0.2.0`, `0.1.0`).
    pub stages: Vec<(&'static str, &'static str)>,
    /// Why it would not load, when it would not.
    pub problems: Vec<String>,
    /// What the state probe found, by stage.
    pub probes: Vec<(&'static str, super::probe::Probe)>,
}

impl Report {
    /// Whether the gateway would load it for at least one stage.
    pub fn loads(&self) -> bool {
        !self.stages.is_empty()
    }

    /// The report as text for `file`.
    pub fn render(&self, file: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{file}: a WebAssembly component, {} bytes", self.bytes);
        if self.stages.is_empty() {
            let _ = writeln!(out, "stages: none (the gateway would not load it)");
        } else {
            let stages: Vec<String> = self
                .stages
                .iter()
                .map(|(stage, version)| format!("{stage} (sluice:plugin@{version})"))
                .collect();
            let _ = writeln!(out, "stages: {}", stages.join(", "));
        }
        if self.stages.len() >= 4 {
            let _ = writeln!(
                out,
                "world: sdk (sluice:plugin@{}): it exports every stage, as plugins built with the Rust SDK do; the stages it does not implement refuse every call, so configure it for the one it does",
                self.stages[0].1
            );
        }
        let _ = writeln!(out, "exports: {}", list(&self.exports));
        let _ = writeln!(out, "imports: {}", list(&self.imports));
        for p in &self.problems {
            let _ = writeln!(out, "problem: {p}");
        }
        // Stages that could not be probed for the same reason share one line.
        let mut unprobed: Vec<(&str, Vec<&str>)> = Vec::new();
        for (stage, probe) in &self.probes {
            match probe {
                Probe::Stateless => {}
                Probe::Inconclusive(why) => match unprobed.iter_mut().find(|(w, _)| w == why) {
                    Some((_, stages)) => stages.push(stage),
                    None => unprobed.push((why, vec![stage])),
                },
                Probe::KeepsState { fresh, warm } => {
                    let _ = writeln!(
                        out,
                        "warning: as a {stage} plugin it answered the same request differently when one instance served it twice ({} the second time, against {} from a fresh instance): it keeps state in globals, which a fresh instance (the default for plugins from files) starts without at every request. Keep state in `kv`, or run it with instances = \"warm\" if the state is a cache.",
                        clip(warm),
                        clip(fresh)
                    );
                }
            }
        }
        for (why, stages) in unprobed {
            let _ = writeln!(
                out,
                "note: whether it keeps state in globals was not probed (as {}): {why}; pass the config it runs with: sluice plugin check FILE --config JSON",
                stages.join(", ")
            );
        }
        let _ = writeln!(
            out,
            "loads: {}",
            if self.loads() {
                "yes (its config is checked by its `init` when the gateway loads it)"
            } else {
                "no"
            }
        );
        out
    }
}

/// At most 160 characters of `text`.
fn clip(text: &str) -> String {
    match text.char_indices().nth(160) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_string(),
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "(none)".into()
    } else {
        items.join(", ")
    }
}

/// Inspects `bytes`. An error means they are not a component this gateway can compile.
pub fn inspect(bytes: &[u8]) -> anyhow::Result<Report> {
    inspect_with(bytes, None)
}

/// Inspects `bytes`; with `config` (the plugin's config table as JSON) it also probes, for each
/// stage the component serves, whether the plugin keeps state in its instance.
pub fn inspect_with(bytes: &[u8], config: Option<&str>) -> anyhow::Result<Report> {
    let runtime = Runtime::new(RuntimeLimits::default())?;
    let (component, _) = runtime.compile(bytes).map_err(|e| {
        anyhow::anyhow!(
            "not a WebAssembly component this gateway can compile (a core module needs `wasm-tools component new`): {e}"
        )
    })?;
    let ty = component.component_type();
    let imports: Vec<String> = ty
        .imports(&runtime.engine)
        .map(|(n, _)| n.to_string())
        .collect();
    let exports: Vec<String> = ty
        .exports(&runtime.engine)
        .map(|(n, _)| n.to_string())
        .collect();
    let mut report = Report {
        bytes: bytes.len(),
        imports,
        exports,
        stages: Vec::new(),
        problems: Vec::new(),
        probes: Vec::new(),
    };
    let pre = match runtime.linker.instantiate_pre(&component) {
        Ok(pre) => pre,
        Err(e) => {
            report.problems.push(format!(
                "it imports something the gateway does not provide (plugins get `host`, `kv`, `keys` and WASI without files, network or environment): {e:#}"
            ));
            return Ok(report);
        }
    };
    let version = |v2: bool| if v2 { "0.2.0" } else { "0.1.0" };
    if let Ok(p) = AuthWorld::pre(pre.clone()) {
        report
            .stages
            .push(("auth", version(matches!(p, AuthPre::V2(_)))));
    }
    if let Ok(p) = PolicyWorld::pre(pre.clone()) {
        report
            .stages
            .push(("policy", version(matches!(p, PolicyPre::V2(_)))));
    }
    if let Ok(p) = AdapterWorld::pre(pre.clone()) {
        report
            .stages
            .push(("adapter", version(matches!(p, AdapterPre::V2(_)))));
    }
    if let Ok(p) = EnrichWorld::pre(pre.clone()) {
        report
            .stages
            .push(("enrich", version(matches!(p, EnrichPre::V2(_)))));
    }
    if McpPolicyWorld::pre(pre.clone()).is_ok() {
        report.stages.push(("mcp-policy", "0.2.0"));
    }
    if GuardWorld::pre(pre).is_ok() {
        report.stages.push(("guard", "0.2.0"));
    }
    if let Some(config) = config
        && !report.stages.is_empty()
    {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        for (stage, _) in report.stages.clone() {
            let found = rt.block_on(super::probe::probe(&runtime, &component, stage, config));
            report.probes.push((stage, found));
        }
    }
    if report.stages.is_empty() {
        let ours = report
            .exports
            .iter()
            .any(|e| e.starts_with("sluice:plugin/"));
        report.problems.push(if ours {
            "its sluice:plugin exports match no stage world of 0.2.0 or 0.1.0 (built against another WIT version?)".into()
        } else {
            "it exports no sluice:plugin interface: build it against wit/plugin.wit (a stage world)".into()
        });
    }
    Ok(report)
}
