//! The first-party plugins compiled into the binary. `build.rs` builds them to `.wasm` and
//! generates [`BUILTINS`] from the `[package.metadata.sluice]` table of each crate under
//! `plugins/`: that table is the one list of built-ins.

use crate::config::StageKind;

/// A plugin embedded in the binary, named in configs as `builtin:NAME`.
#[derive(Debug)]
pub struct Builtin {
    /// The name after `builtin:`.
    pub name: &'static str,
    /// The stage it serves.
    pub stage: StageKind,
    /// The component's bytes.
    pub bytes: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/builtins.rs"));

/// The built-in plugin `name`.
pub fn get(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

/// Every built-in's name.
pub fn names() -> Vec<&'static str> {
    BUILTINS.iter().map(|b| b.name).collect()
}

/// The names of the built-ins of one stage.
pub fn names_of(stage: StageKind) -> Vec<&'static str> {
    BUILTINS
        .iter()
        .filter(|b| b.stage == stage)
        .map(|b| b.name)
        .collect()
}
