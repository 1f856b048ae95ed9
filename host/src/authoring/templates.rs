//! The files `sluice plugin new` writes, by language and stage. `{{name}}` (the plugin's name),
//! `{{crate}}` (its Rust crate name), `{{Type}}` (its Rust type name), `{{stage}}` and `{{sdk}}`
//! are filled in.

use super::Lang;
use crate::config::StageKind;

/// The files of a new project: (path relative to the project, contents before filling in).
pub(super) fn files(lang: Lang, stage: StageKind) -> Vec<(&'static str, &'static str)> {
    match lang {
        Lang::Rust => vec![
            (
                "Cargo.toml",
                include_str!("../../templates/rust/Cargo.toml.tmpl"),
            ),
            ("src/lib.rs", rust_source(stage)),
            (".gitignore", "/target\n*.wasm\n"),
        ],
        Lang::Python => vec![
            ("app.py", python_source(stage)),
            ("test_app.py", python_test(stage)),
            ("wit/plugin.wit", include_str!("../../../wit/plugin.wit")),
            (".gitignore", "__pycache__/\n*.wasm\n"),
        ],
        Lang::Js => vec![
            ("app.js", js_source(stage)),
            ("app.test.js", js_test(stage)),
            ("wit/plugin.wit", include_str!("../../../wit/plugin.wit")),
            (".gitignore", "node_modules/\n*.wasm\n"),
        ],
    }
}

/// Extra `[dependencies]` lines of a Rust project.
pub(super) fn rust_deps(stage: StageKind) -> &'static str {
    match stage {
        StageKind::Auth => "sha2 = \"0.10\"\nhex = \"0.4\"\n",
        _ => "",
    }
}

fn rust_source(stage: StageKind) -> &'static str {
    match stage {
        StageKind::Auth => include_str!("../../templates/rust/auth.rs"),
        StageKind::Policy => include_str!("../../templates/rust/policy.rs"),
        StageKind::Adapter => include_str!("../../templates/rust/adapter.rs"),
        StageKind::Enrich => include_str!("../../templates/rust/enrich.rs"),
        StageKind::McpPolicy => include_str!("../../templates/rust/mcp.rs"),
        StageKind::Guard => include_str!("../../templates/rust/guard.rs"),
    }
}

fn python_source(stage: StageKind) -> &'static str {
    let _ = stage;
    ""
}

fn python_test(stage: StageKind) -> &'static str {
    let _ = stage;
    ""
}

fn js_source(stage: StageKind) -> &'static str {
    let _ = stage;
    ""
}

fn js_test(stage: StageKind) -> &'static str {
    let _ = stage;
    ""
}

/// Fills in the placeholders of `template`.
pub(super) fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("{{{{{k}}}}}"), v);
    }
    out
}
