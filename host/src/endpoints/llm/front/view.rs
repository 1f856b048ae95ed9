//! The pipeline's view of a front door's request: its chat completion translation, with what
//! only the provider's own API can take left out when such a provider may serve it.

use super::invalid;
use crate::error::ApiError;
use serde_json::{Map, Value};
use sluice_dialects::Invalid;

/// The pipeline's view of the request `original`: its chat completion translation. When a
/// provider may take the request natively (`native`), what the translation refuses (a top-level
/// field, a content block, an input item) is left out of the view (the native lane sends it), and
/// the first refusal is returned for any lane that translates; otherwise a refusal is the 400.
pub(super) fn translate_view(
    original: &Map<String, Value>,
    native: bool,
    translate: impl Fn(&Value) -> Result<Map<String, Value>, Invalid>,
) -> Result<(Map<String, Value>, Option<Invalid>), ApiError> {
    let mut view = Value::Object(original.clone());
    let mut refused = None;
    // Each pass leaves one thing out; a request has few that the translation refuses.
    for _ in 0..32 {
        match translate(&view) {
            Ok(chat) => return Ok((chat, refused)),
            Err(e) if native && leave_out(&mut view, e.param.as_deref()) => {
                refused.get_or_insert(e);
            }
            Err(e) => return Err(invalid(refused.unwrap_or(e))),
        }
    }
    Err(invalid(refused.unwrap_or_else(|| {
        Invalid::body("The request has too much that no chat completion can express.")
    })))
}

/// Removes from `view` what `param` names: the innermost list element on its path
/// (`messages[2].content[0].source` removes that content block), or else its top-level field.
/// The conversation itself and the required fields are never removed. Returns whether anything
/// was.
pub(super) fn leave_out(view: &mut Value, param: Option<&str>) -> bool {
    let Some(param) = param else { return false };
    // The path as (key, indexes) steps: `content[0]` is ("content", [0]).
    let mut steps: Vec<(&str, Vec<usize>)> = Vec::new();
    for seg in param.split('.') {
        let (key, rest) = seg.split_once('[').map_or((seg, ""), |(k, r)| (k, r));
        let indexes = rest
            .split('[')
            .filter_map(|i| i.trim_end_matches(']').parse().ok())
            .collect();
        steps.push((key, indexes));
    }
    let Some(last) = steps.iter().rposition(|(_, ix)| !ix.is_empty()) else {
        let field = steps.first().map_or("", |(k, _)| *k);
        if matches!(field, "model" | "messages" | "input" | "max_tokens" | "") {
            return false;
        }
        return view
            .as_object_mut()
            .is_some_and(|o| o.remove(field).is_some());
    };
    let mut at = &mut *view;
    for (i, (key, indexes)) in steps[..=last].iter().enumerate() {
        let Some(next) = at.get_mut(*key) else {
            return false;
        };
        at = next;
        let (inner, target) = match indexes.split_last() {
            Some((t, inner)) => (inner, *t),
            None => continue,
        };
        for ix in inner {
            let Some(next) = at.get_mut(*ix) else {
                return false;
            };
            at = next;
        }
        if i == last {
            return match at.as_array_mut() {
                Some(list) if target < list.len() => {
                    list.remove(target);
                    true
                }
                _ => false,
            };
        }
        let Some(next) = at.get_mut(target) else {
            return false;
        };
        at = next;
    }
    false
}
