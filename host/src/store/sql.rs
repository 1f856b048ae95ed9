//! The SQL the stores speak, whichever engine runs it: values, rows, and the placeholder form.
//!
//! Every query is written once, with `$1, $2, ...` placeholders (PostgreSQL's form; SQLite gets
//! them rewritten to `?1, ?2, ...`), in SQL both engines accept: `ON CONFLICT` rather than
//! `INSERT OR IGNORE`, explicit casts where PostgreSQL would answer `NUMERIC` (`SUM` of a `BIGINT`
//! column) or could not infer a parameter's type (`CAST($2 AS TEXT) IS NULL`, a parameter in a
//! `SELECT` list), and no function only one engine has.

use super::db::StoreError;
use std::borrow::Cow;
use std::sync::Arc;

/// A value bound to a statement or read from a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL `NULL`.
    Null,
    /// An integer (`BIGINT`; PostgreSQL gets it as whatever integer or float type it inferred).
    Int(i64),
    /// A float (`DOUBLE PRECISION`).
    Real(f64),
    /// Text.
    Text(String),
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(v)
    }
}

impl From<i32> for Value {
    fn from(v: i32) -> Value {
        Value::Int(v.into())
    }
}

impl From<u32> for Value {
    fn from(v: u32) -> Value {
        Value::Int(v.into())
    }
}

impl From<u16> for Value {
    fn from(v: u16) -> Value {
        Value::Int(v.into())
    }
}

impl From<bool> for Value {
    /// Stored as 0 or 1 (an integer column in both engines).
    fn from(v: bool) -> Value {
        Value::Int(v.into())
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Real(v)
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Value {
        Value::Text(v.clone())
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_string())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// Statement parameters: `params![a, b, ...]` makes a `&[Value]` of anything [`Value`] converts
/// from.
macro_rules! params {
    ($($v:expr),* $(,)?) => {
        &[$($crate::store::sql::Value::from($v)),*][..]
    };
}
pub(crate) use params;

/// A type a column's value can be read as.
pub trait FromValue: Sized {
    /// Converts `v`; None when its type does not fit.
    fn from_value(v: &Value) -> Option<Self>;
    /// What the type is called in errors.
    const EXPECTED: &'static str;
}

impl FromValue for i64 {
    fn from_value(v: &Value) -> Option<i64> {
        match v {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
    const EXPECTED: &'static str = "an integer";
}

impl FromValue for f64 {
    /// Integers read as floats too (SQLite's `COALESCE(SUM(x), 0)` is the integer 0 over no rows).
    fn from_value(v: &Value) -> Option<f64> {
        match v {
            Value::Real(f) => Some(*f),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }
    const EXPECTED: &'static str = "a number";
}

impl FromValue for bool {
    fn from_value(v: &Value) -> Option<bool> {
        i64::from_value(v).map(|i| i != 0)
    }
    const EXPECTED: &'static str = "an integer (0 or 1)";
}

impl FromValue for String {
    fn from_value(v: &Value) -> Option<String> {
        match v {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
    const EXPECTED: &'static str = "text";
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Option<Option<T>> {
        match v {
            Value::Null => Some(None),
            other => T::from_value(other).map(Some),
        }
    }
    const EXPECTED: &'static str = T::EXPECTED;
}

/// One row of a result: its values, readable by column index or name.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    columns: Arc<[String]>,
    values: Vec<Value>,
}

/// A column, by index (from 0) or by name.
pub trait ColumnIndex: std::fmt::Display {
    /// Its index in `columns`.
    fn position(&self, columns: &[String]) -> Option<usize>;
}

impl ColumnIndex for usize {
    fn position(&self, columns: &[String]) -> Option<usize> {
        (*self < columns.len()).then_some(*self)
    }
}

impl ColumnIndex for &str {
    fn position(&self, columns: &[String]) -> Option<usize> {
        columns.iter().position(|c| c == self)
    }
}

impl Row {
    /// A row of `values` under `columns` (one name per value).
    pub(super) fn new(columns: Arc<[String]>, values: Vec<Value>) -> Row {
        Row { columns, values }
    }

    /// The value of column `idx`, converted to `T`; a missing column or a value of another type
    /// is an error.
    pub fn get<T: FromValue>(&self, idx: impl ColumnIndex) -> Result<T, StoreError> {
        let value = idx
            .position(&self.columns)
            .and_then(|i| self.values.get(i))
            .ok_or_else(|| StoreError::Corrupt(format!("no column `{idx}` in the result")))?;
        T::from_value(value).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "column `{idx}` holds {value:?}, not {}",
                T::EXPECTED
            ))
        })
    }

    /// The raw value of column `idx`.
    pub fn value(&self, idx: impl ColumnIndex) -> Option<&Value> {
        idx.position(&self.columns).and_then(|i| self.values.get(i))
    }

    /// The number of columns.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the row has no columns.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// `sql` with its `$N` placeholders written `?N` (SQLite's numbered form). Quoted text and
/// identifiers are left alone.
pub(super) fn sqlite_placeholders(sql: &str) -> Cow<'_, str> {
    if !sql.contains('$') {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '\'' | '"') => quote = Some(c),
            (None, '$') if chars.peek().is_some_and(char::is_ascii_digit) => {
                out.push('?');
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_rewritten_outside_quotes_only() {
        assert_eq!(
            sqlite_placeholders("SELECT a FROM t WHERE b = $1 AND c = $12"),
            "SELECT a FROM t WHERE b = ?1 AND c = ?12"
        );
        assert_eq!(
            sqlite_placeholders("SELECT '$1', \"$2\", $3, 'it''s $4'"),
            "SELECT '$1', \"$2\", ?3, 'it''s $4'"
        );
        assert!(matches!(sqlite_placeholders("SELECT 1"), Cow::Borrowed(_)));
        assert_eq!(sqlite_placeholders("SELECT $ x"), "SELECT $ x");
    }

    #[test]
    fn rows_are_read_by_index_and_name_with_their_types() {
        let row = Row::new(
            Arc::from(vec!["n".to_string(), "f".into(), "t".into(), "z".into()]),
            vec![
                Value::Int(3),
                Value::Real(0.5),
                Value::Text("x".into()),
                Value::Null,
            ],
        );
        assert_eq!(row.get::<i64>(0).expect("int"), 3);
        assert_eq!(row.get::<f64>("n").expect("int as float"), 3.0);
        assert!(row.get::<bool>("n").expect("bool"));
        assert_eq!(row.get::<f64>(1).expect("float"), 0.5);
        assert_eq!(row.get::<String>("t").expect("text"), "x");
        assert_eq!(row.get::<Option<String>>("z").expect("null"), None);
        assert_eq!(row.get::<Option<i64>>(0).expect("some"), Some(3));
        assert!(row.get::<i64>("t").is_err());
        assert!(row.get::<String>("z").is_err(), "NULL is no text");
        let missing = row.get::<i64>("nope").expect_err("missing");
        assert!(missing.to_string().contains("`nope`"), "{missing}");
        assert!(row.get::<i64>(4).is_err());
        assert_eq!(row.len(), 4);
        let p = params![1i64, "a", None::<String>, Some(2.5), true];
        assert_eq!(
            p,
            [
                Value::Int(1),
                Value::Text("a".into()),
                Value::Null,
                Value::Real(2.5),
                Value::Int(1)
            ]
        );
    }
}
