//! Worst cases, applicability, attribute overrides and config validation.

mod common;

use common::{attrs, config};
use sluice_budgets::{
    Budget, Config, NANOS_PER_USD, Period, Price, Scope, Subject, applicable,
    applicable_with_warnings, worst_case_nanos,
};

const USD: i64 = NANOS_PER_USD;

#[test]
fn worst_case_covers_prompt_and_max_tokens_times_n() {
    // $2.50 / $10 per million: 1000 prompt tokens = $0.0025, 500 × 2 output tokens = $0.01.
    let p = Price {
        input: 2.5,
        output: 10.0,
    };
    assert_eq!(worst_case_nanos(&p, 1000, Some(500), 2, 1024), 12_500_000);
    // n = 0 counts as 1.
    assert_eq!(worst_case_nanos(&p, 1000, Some(500), 0, 1024), 7_500_000);
    // No max_tokens: default_max_tokens.
    assert_eq!(worst_case_nanos(&p, 0, None, 1, 1024), 10_240_000);
    assert_eq!(worst_case_nanos(&p, 0, None, 3, 100), 3_000_000);
}

#[test]
fn worst_case_rounds_up_to_whole_nano_usd() {
    // $0.00015 / $0.0006 per million: 1 prompt token = 0.15 nano-USD, which rounds up to 1.
    let p = Price {
        input: 0.00015,
        output: 0.0006,
    };
    assert_eq!(worst_case_nanos(&p, 1, Some(0), 1, 0), 1);
    // 3 output tokens = 1.8 → 2; 7 prompt (1.05) + 3 output (1.8) = 2.85 → 3.
    assert_eq!(worst_case_nanos(&p, 0, Some(3), 1, 0), 2);
    assert_eq!(worst_case_nanos(&p, 7, Some(3), 1, 0), 3);
    // Float noise does not round an exact amount up: 3 tokens at $0.1 per million are 300
    // nano-USD (3 × 0.1 × 1000 is 300.00000000000006 in floating point), 7 at $0.7 are 4900.
    let tenth = Price {
        input: 0.1,
        output: 0.7,
    };
    assert_eq!(worst_case_nanos(&tenth, 3, Some(0), 1, 0), 300);
    assert_eq!(worst_case_nanos(&tenth, 0, Some(7), 1, 0), 4900);
    // Free models, and nonsense prices, cost nothing.
    let free = Price {
        input: 0.0,
        output: -1.0,
    };
    assert_eq!(worst_case_nanos(&free, 1000, Some(1000), 1, 0), 0);
}

fn full_config() -> Config {
    config(
        r#"{"key": {"month": 50, "day": 5}, "user": {"day": 1}, "team": {"month": 500},
            "teams": {"research": {"month": 2000, "week": 0}},
            "models": {"gpt-4o": {"day": 100}}}"#,
    )
}

fn scopes(budgets: &[Budget]) -> Vec<(String, String, i64)> {
    budgets
        .iter()
        .map(|b| (b.scope.label(), b.period.label(), b.limit_nanos))
        .collect()
}

#[test]
fn key_user_team_and_model_budgets_apply() {
    let c = full_config();
    let a = attrs(&[]);
    let s = Subject {
        key_id: "k1",
        team: Some("ops"),
        attributes: &a,
        user_id: Some("u-7"),
        model: "gpt-4o",
    };
    let got = scopes(&applicable(&c, &s));
    let want = [
        ("key:k1", "day", 5 * USD),
        ("key:k1", "month", 50 * USD),
        ("user:k1/u-7", "day", USD),
        ("team:ops", "month", 500 * USD),
        ("model:gpt-4o", "day", 100 * USD),
    ];
    let want: Vec<(String, String, i64)> = want
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), *c))
        .collect();
    assert_eq!(got, want);

    // A team with its own table uses it (0 = no budget); no user, no priced model: none of those.
    let s = Subject {
        team: Some("research"),
        user_id: None,
        model: "gpt-4o-mini",
        ..s
    };
    let got = applicable(&c, &s);
    assert_eq!(got.len(), 3);
    assert_eq!(
        got[2],
        Budget {
            scope: Scope::Team {
                team: "research".into()
            },
            period: Period::Month,
            limit_nanos: 2000 * USD,
        }
    );
    assert_eq!(got[2].label(), "team:research month");
    assert_eq!(got[2].describe(), "team research's $2000.00 monthly budget");

    // Nothing configured: nothing applies.
    assert!(applicable(&Config::default(), &s).is_empty());
}

#[test]
fn attributes_override_config_per_period() {
    let c = full_config();
    let a = attrs(&[
        ("budget_usd_month", "80"),
        ("budget_usd_day", "0"),
        ("budget_usd_24h", " 2.5 "),
        ("user_budget_usd_day", "0.25"),
        ("budget_usd_week", "lots"),
        ("budget_usd_fortnight", "5"),
        ("user_budget_usd_month", "-1"),
        ("rpm", "10"),
    ]);
    let s = Subject {
        key_id: "k1",
        team: None,
        attributes: &a,
        user_id: Some("u-7"),
        model: "x",
    };
    let (budgets, warnings) = applicable_with_warnings(&c, &s);
    let got = scopes(&budgets);
    assert_eq!(
        got,
        vec![
            ("key:k1".into(), "month".into(), 80 * USD),
            ("key:k1".into(), "24h".into(), 2_500_000_000),
            ("user:k1/u-7".into(), "day".into(), 250_000_000),
        ]
    );
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    assert!(warnings.iter().any(|w| w.contains("budget_usd_week")));
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("unknown period `fortnight`"))
    );
    assert!(warnings.iter().any(|w| w.contains("user_budget_usd_month")));
    // An attribute alone makes a budget even when the config has none for keys.
    let b = applicable(&Config::default(), &Subject { user_id: None, ..s });
    assert_eq!(b.len(), 2);
}

#[test]
fn config_errors_name_the_field() {
    let cases = [
        (
            r#"{"key": {"fortnight": 5}}"#,
            "budget config: key.fortnight: unknown period `fortnight`",
        ),
        (
            r#"{"user": {"day": -1}}"#,
            "budget config: user.day: a budget must be",
        ),
        (
            r#"{"team": {"month": "50"}}"#,
            "budget config: team.month: expected a number of USD",
        ),
        (
            r#"{"teams": {"research": {"0h": 1}}}"#,
            "budget config: teams.research.0h: rolling window `0h` is empty",
        ),
        (
            r#"{"models": {"gpt-4o": {"400d": 1}}}"#,
            "budget config: models.gpt-4o.400d: rolling window `400d` is longer than 366d",
        ),
        (
            r#"{"thresholds": [0.5, 1.5]}"#,
            "budget config: thresholds[1]: expected a fraction",
        ),
        (
            r#"{"thresholds": [0]}"#,
            "budget config: thresholds[0]: expected a fraction",
        ),
        (
            r#"{"thresholds": 0.8}"#,
            "budget config: thresholds: expected a list",
        ),
        (
            r#"{"default_max_tokens": -3}"#,
            "budget config: default_max_tokens: expected a whole number",
        ),
        (
            r#"{"unpriced": "maybe"}"#,
            "budget config: unpriced: expected \"allow\" or \"deny\"",
        ),
        (
            r#"{"keys": {"month": 5}}"#,
            "budget config: keys: unknown field",
        ),
        (r#"{"key": 5}"#, "budget config: key: expected a table"),
        (
            r#"{"key": {"month": 2e9}}"#,
            "budget config: key.month: a budget may be at most",
        ),
        ("[1]", "budget config: expected a table"),
        ("{", "budget config: invalid JSON"),
    ];
    for (json, want) in cases {
        let e = Config::from_json(json).expect_err(json).to_string();
        assert!(e.starts_with(want), "{json}: {e}");
    }
    // serde sees the same validation.
    let e = serde_json::from_str::<Config>(r#"{"key": {"fortnight": 5}}"#).expect_err("bad");
    assert!(e.to_string().contains("key.fortnight"), "{e}");
    let ok: Config = serde_json::from_str(r#"{"key": {"month": 0, "7d": 3}}"#).expect("ok");
    assert_eq!(ok.key.len(), 2);
}
