//! The files `sluice plugin new` writes, by language and stage. `{{name}}` (the plugin's name),
//! `{{crate}}` (its Rust crate name), `{{Type}}` (its Rust type name), `{{stage}}` and `{{sdk}}`
//! are filled in.

use super::Lang;
use crate::config::StageKind;

/// The files of a new project: (path relative to the project, contents, whether placeholders
/// are filled in). The JavaScript SDK is copied into the project (`sluice-plugin.js`), so
/// `node --test` and the bundler find it beside the plugin.
pub(super) fn files(lang: Lang, stage: StageKind) -> Vec<(&'static str, &'static str, bool)> {
    match lang {
        Lang::Rust => vec![
            (
                "Cargo.toml",
                include_str!("../../templates/rust/Cargo.toml.tmpl"),
                true,
            ),
            ("src/lib.rs", rust_source(stage), true),
            (".gitignore", "/target\n*.wasm\n", false),
        ],
        Lang::Python => vec![
            ("app.py", python_source(stage), true),
            ("test_app.py", python_test(stage), true),
            (
                "conftest.py",
                include_str!("../../templates/python/conftest.py"),
                false,
            ),
            ("wit/plugin.wit", WIT, false),
            (".gitignore", "__pycache__/\n*.wasm\n", false),
        ],
        Lang::Js => {
            let (source, test) = js_source(stage);
            vec![
                ("plugin.js", source, true),
                ("plugin.test.js", test, true),
                (
                    "package.json",
                    include_str!("../../templates/js/package.json.tmpl"),
                    true,
                ),
                (
                    "sluice-plugin.js",
                    include_str!("../../../plugin-sdk/js/sluice-plugin.js"),
                    false,
                ),
                (
                    "sluice-plugin.d.ts",
                    include_str!("../../../plugin-sdk/js/sluice-plugin.d.ts"),
                    false,
                ),
                ("wit/plugin.wit", WIT, false),
                (".gitignore", "node_modules/\n*.wasm\n", false),
            ]
        }
    }
}

/// The WIT contract Python and JavaScript projects build against.
const WIT: &str = include_str!("../../../wit/plugin.wit");

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

/// A Python project's `app.py`.
fn python_source(stage: StageKind) -> &'static str {
    match stage {
        StageKind::Auth => include_str!("../../templates/python/auth.py"),
        StageKind::Policy => include_str!("../../templates/python/policy.py"),
        StageKind::Adapter => include_str!("../../templates/python/adapter.py"),
        StageKind::Enrich => include_str!("../../templates/python/enrich.py"),
        StageKind::McpPolicy => include_str!("../../templates/python/mcp.py"),
        StageKind::Guard => include_str!("../../templates/python/guard.py"),
    }
}

/// A Python project's `test_app.py`.
fn python_test(stage: StageKind) -> &'static str {
    match stage {
        StageKind::Auth => include_str!("../../templates/python/auth_test.py"),
        StageKind::Policy => include_str!("../../templates/python/policy_test.py"),
        StageKind::Adapter => include_str!("../../templates/python/adapter_test.py"),
        StageKind::Enrich => include_str!("../../templates/python/enrich_test.py"),
        StageKind::McpPolicy => include_str!("../../templates/python/mcp_test.py"),
        StageKind::Guard => include_str!("../../templates/python/guard_test.py"),
    }
}

/// A JavaScript project's `plugin.js` and `plugin.test.js`.
fn js_source(stage: StageKind) -> (&'static str, &'static str) {
    match stage {
        StageKind::Auth => (
            include_str!("../../templates/js/auth.js"),
            include_str!("../../templates/js/auth.test.js"),
        ),
        StageKind::Policy => (
            include_str!("../../templates/js/policy.js"),
            include_str!("../../templates/js/policy.test.js"),
        ),
        StageKind::Adapter => (
            include_str!("../../templates/js/adapter.js"),
            include_str!("../../templates/js/adapter.test.js"),
        ),
        StageKind::Enrich => (
            include_str!("../../templates/js/enrich.js"),
            include_str!("../../templates/js/enrich.test.js"),
        ),
        StageKind::McpPolicy => (
            include_str!("../../templates/js/mcp.js"),
            include_str!("../../templates/js/mcp.test.js"),
        ),
        StageKind::Guard => (
            include_str!("../../templates/js/guard.js"),
            include_str!("../../templates/js/guard.test.js"),
        ),
    }
}

/// Fills in the placeholders of `template`.
pub(super) fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("{{{{{k}}}}}"), v);
    }
    out
}
