//! A fake store and helpers shared by the tests.
#![allow(dead_code)]

use sluice_budgets::{
    Completion, Config, Counters, Price, ReconcileOutcome, Request, ReserveOutcome, Subject,
    reconcile, reserve,
};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// The `kv` store in memory, with expiry against a test clock.
#[derive(Default)]
pub struct FakeCounters {
    counters: Mutex<HashMap<String, (i64, u64)>>,
    records: Mutex<HashMap<String, Vec<u8>>>,
    now: AtomicU64,
}

impl FakeCounters {
    pub fn at(now_ms: u64) -> Self {
        let f = FakeCounters::default();
        f.set_now(now_ms);
        f
    }

    pub fn set_now(&self, now_ms: u64) {
        self.now.store(now_ms, Ordering::SeqCst);
    }

    pub fn now(&self) -> u64 {
        self.now.load(Ordering::SeqCst)
    }

    /// Every live counter whose name starts with `prefix`, summed.
    pub fn sum(&self, prefix: &str) -> i64 {
        let now = self.now();
        let map = self.counters.lock().expect("lock");
        map.iter()
            .filter(|(k, (_, exp))| k.starts_with(prefix) && *exp > now)
            .map(|(_, (v, _))| *v)
            .sum()
    }

    /// The counter names and expiries, sorted.
    pub fn keys(&self) -> Vec<(String, u64)> {
        let map = self.counters.lock().expect("lock");
        let mut keys: Vec<(String, u64)> = map.iter().map(|(k, (_, e))| (k.clone(), *e)).collect();
        keys.sort();
        keys
    }

    pub fn record_count(&self) -> usize {
        self.records.lock().expect("lock").len()
    }

    pub fn clear_records(&self) {
        self.records.lock().expect("lock").clear();
    }
}

impl Counters for FakeCounters {
    fn add(&self, key: &str, delta: i64, expires_at_ms: u64) -> i64 {
        let now = self.now();
        let mut map = self.counters.lock().expect("lock");
        let entry = map.entry(key.to_string()).or_insert((0, expires_at_ms));
        if entry.1 <= now {
            *entry = (0, expires_at_ms);
        }
        entry.0 += delta;
        entry.0
    }

    fn get(&self, key: &str) -> i64 {
        let now = self.now();
        let map = self.counters.lock().expect("lock");
        match map.get(key) {
            Some((v, exp)) if *exp > now => *v,
            _ => 0,
        }
    }

    fn put_record(&self, key: &str, value: &[u8], _ttl_ms: u64) {
        self.records
            .lock()
            .expect("lock")
            .insert(key.to_string(), value.to_vec());
    }

    fn take_record(&self, key: &str) -> Option<Vec<u8>> {
        self.records.lock().expect("lock").remove(key)
    }
}

/// Free input, $1 per million output tokens: each output token costs 1000 nano-USD, so a
/// request's worst case is `max_tokens` × 1000 nano-USD.
pub const PRICE: Price = Price {
    input: 0.0,
    output: 1.0,
};

pub fn config(json: &str) -> Config {
    Config::from_json(json).expect("valid config")
}

pub fn subject<'a>(key: &'a str, attributes: &'a [(String, String)]) -> Subject<'a> {
    Subject {
        key_id: key,
        team: None,
        attributes,
        user_id: None,
        model: "m",
    }
}

/// Reserves for a request whose worst case is `max_tokens` output tokens at [`PRICE`]
/// (1000 nano-USD each).
pub fn reserve_at(
    config: &Config,
    counters: &FakeCounters,
    request_id: &str,
    subject: Subject,
    max_tokens: u32,
    now_ms: u64,
) -> ReserveOutcome {
    let request = Request {
        request_id,
        subject,
        est_prompt_tokens: 0,
        max_tokens: Some(max_tokens),
        n: 1,
    };
    reserve(config, counters, &request, || Some(PRICE), now_ms)
}

/// Charges `actual` nano-USD for `request_id`.
pub fn reconcile_at(
    config: &Config,
    counters: &FakeCounters,
    request_id: &str,
    subject: Subject,
    actual: i64,
    now_ms: u64,
) -> ReconcileOutcome {
    let completion = Completion {
        request_id,
        subject,
    };
    reconcile(config, counters, &completion, || actual, now_ms)
}

pub fn attrs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
