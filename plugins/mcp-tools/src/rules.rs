//! The config's rules: which principals and servers a rule selects, and which tools it permits.

use serde::Deserialize;
use sluice_plugin_sdk::Principal;
use std::collections::BTreeMap;
use wildmatch::WildMatch;

/// One `[[plugins.config.rules]]` table, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleConfig {
    #[serde(default)]
    keys: Option<Vec<String>>,
    #[serde(default)]
    owners: Option<Vec<String>>,
    #[serde(default)]
    teams: Option<Vec<String>>,
    #[serde(default)]
    servers: Option<Vec<String>>,
    #[serde(default)]
    attributes: BTreeMap<String, serde_json::Value>,
    #[serde(default = "allow_all")]
    allow: Vec<String>,
    #[serde(default)]
    deny: Vec<String>,
}

fn allow_all() -> Vec<String> {
    vec!["*".into()]
}

/// A rule with its selectors checked and its globs compiled.
pub(crate) struct Rule {
    keys: Option<Vec<String>>,
    owners: Option<Vec<String>>,
    teams: Option<Vec<String>>,
    servers: Option<Vec<String>>,
    attributes: Vec<(String, String)>,
    allow: Vec<WildMatch>,
    deny: Vec<WildMatch>,
}

impl Rule {
    /// Checks rule `index` (0-based, named 1-based in messages) and compiles its globs.
    pub(crate) fn new(index: usize, c: RuleConfig) -> Result<Rule, String> {
        let at = |field: &str| format!("mcp-tools config: rules[{}].{field}", index + 1);
        for (field, list) in [
            ("keys", &c.keys),
            ("owners", &c.owners),
            ("teams", &c.teams),
            ("servers", &c.servers),
        ] {
            if list.as_ref().is_some_and(Vec::is_empty) {
                return Err(format!(
                    "{} is empty, so the rule would match nothing: leave it out to match every one",
                    at(field)
                ));
            }
        }
        let mut attributes = Vec::new();
        for (name, value) in c.attributes {
            let value = match value {
                serde_json::Value::String(s) => s,
                v @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_)) => v.to_string(),
                _ => {
                    return Err(format!(
                        "{} must be a string, number or boolean",
                        at(&format!("attributes.{name}"))
                    ));
                }
            };
            attributes.push((name, value));
        }
        let globs = |list: &[String]| list.iter().map(|g| WildMatch::new(g)).collect();
        Ok(Rule {
            allow: globs(&c.allow),
            deny: globs(&c.deny),
            keys: c.keys,
            owners: c.owners,
            teams: c.teams,
            servers: c.servers,
            attributes,
        })
    }

    /// Whether every selector the rule gives matches `principal` and `server`.
    pub(crate) fn selects(&self, principal: &Principal, server: &str) -> bool {
        let within = |list: &Option<Vec<String>>, value: Option<&str>| match list {
            None => true,
            Some(list) => value.is_some_and(|v| list.iter().any(|x| x == v)),
        };
        within(&self.keys, Some(&principal.key_id))
            && within(&self.owners, Some(&principal.owner))
            && within(&self.teams, principal.team.as_deref())
            && within(&self.servers, Some(server))
            && self
                .attributes
                .iter()
                .all(|(name, value)| principal.attribute(name) == Some(value.as_str()))
    }

    /// Whether the rule permits `tool`: an allow glob matches it and no deny glob does.
    pub(crate) fn permits(&self, tool: &str) -> bool {
        self.allow.iter().any(|g| g.matches(tool)) && !self.deny.iter().any(|g| g.matches(tool))
    }
}

/// The rules in config order.
pub(crate) struct Rules(pub(crate) Vec<Rule>);

impl Rules {
    /// The first rule that selects `principal` and `server`, if any.
    pub(crate) fn select(&self, principal: &Principal, server: &str) -> Option<&Rule> {
        self.0.iter().find(|r| r.selects(principal, server))
    }

    /// Whether `principal` may use `tool` of `server`: the first selecting rule decides; when
    /// none selects them, every tool is permitted.
    pub(crate) fn permits(&self, principal: &Principal, server: &str, tool: &str) -> bool {
        self.select(principal, server)
            .is_none_or(|rule| rule.permits(tool))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(json: &str) -> Result<Rules, String> {
        let configs: Vec<RuleConfig> = serde_json::from_str(json).map_err(|e| e.to_string())?;
        configs
            .into_iter()
            .enumerate()
            .map(|(i, c)| Rule::new(i, c))
            .collect::<Result<_, _>>()
            .map(Rules)
    }

    fn principal(key: &str, team: Option<&str>, attrs: &[(&str, &str)]) -> Principal {
        Principal {
            key_id: key.into(),
            owner: format!("{key}-owner"),
            team: team.map(str::to_string),
            attributes: attrs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn the_first_selecting_rule_decides() {
        let r = rules(
            r#"[{"teams":["admins"]},
                {"servers":["github"],"allow":["list_*","get_*"]},
                {"deny":["delete_*"]}]"#,
        )
        .expect("rules");
        let admin = principal("a", Some("admins"), &[]);
        let dev = principal("d", Some("devs"), &[]);
        assert!(r.permits(&admin, "github", "delete_repo"));
        assert!(r.permits(&dev, "github", "list_issues"));
        assert!(!r.permits(&dev, "github", "create_issue"));
        assert!(!r.permits(&dev, "docs", "delete_page"));
        assert!(r.permits(&dev, "docs", "search"));
    }

    #[test]
    fn every_given_selector_must_match() {
        let r = rules(
            r#"[{"keys":["k1"],"owners":["k1-owner"],"attributes":{"tier":"gold","level":3},
                 "allow":["*"]},
                {"allow":[]}]"#,
        )
        .expect("rules");
        let gold = principal("k1", None, &[("tier", "gold"), ("level", "3")]);
        assert!(r.permits(&gold, "s", "anything"));
        let silver = principal("k1", None, &[("tier", "silver"), ("level", "3")]);
        assert!(!r.permits(&silver, "s", "anything"));
        let other = principal("k2", None, &[("tier", "gold"), ("level", "3")]);
        assert!(!r.permits(&other, "s", "anything"));
        let teamless = rules(r#"[{"teams":["t"],"allow":[]}]"#).expect("rules");
        assert!(teamless.permits(&principal("k", None, &[]), "s", "x"));
    }

    #[test]
    fn globs_match_whole_names_with_star_and_question_mark() {
        let r = rules(r#"[{"allow":["get_?","search*"],"deny":["*_admin"]}]"#).expect("rules");
        let p = principal("k", None, &[]);
        assert!(r.permits(&p, "s", "get_a"));
        assert!(!r.permits(&p, "s", "get_ab"));
        assert!(r.permits(&p, "s", "search"));
        assert!(r.permits(&p, "s", "search_code"));
        assert!(!r.permits(&p, "s", "search_admin"));
        assert!(!r.permits(&p, "s", "research"));
    }

    #[test]
    fn no_rules_permit_everything() {
        let r = rules("[]").expect("rules");
        assert!(r.permits(&principal("k", None, &[]), "s", "delete_all"));
    }

    #[test]
    fn bad_rules_are_refused_with_their_place() {
        let e = rules(r#"[{}, {"servers":[]}]"#)
            .err()
            .expect("empty selector");
        assert!(e.contains("rules[2].servers is empty"), "{e}");
        let e = rules(r#"[{"attributes":{"tier":["a"]}}]"#)
            .err()
            .expect("list");
        assert!(e.contains("rules[1].attributes.tier"), "{e}");
        assert!(rules(r#"[{"team":["a"]}]"#).is_err());
    }
}
