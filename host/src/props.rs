//! Strategies the host's property tests share (compiled for tests only).

use proptest::prelude::*;
use serde_json::{Map, Value};

/// Any JSON value: scalars of every kind (big and negative numbers, odd strings), and arrays and
/// objects of them, a few levels deep.
pub fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        Just(Value::String(String::new())),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z_]{1,10}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A JSON object with `fields` (the names a parser looks at) set to any JSON value, each present
/// or not, and a few other members.
pub fn object_with(fields: &'static [&'static str]) -> impl Strategy<Value = Value> {
    (
        proptest::collection::vec(proptest::option::of(json()), fields.len()),
        proptest::collection::btree_map("[a-z_]{1,10}", json(), 0..3),
    )
        .prop_map(move |(values, extra)| {
            let mut m: Map<String, Value> = extra.into_iter().collect();
            for (name, v) in fields.iter().zip(values) {
                if let Some(v) = v {
                    m.insert((*name).to_string(), v);
                }
            }
            Value::Object(m)
        })
}
