//! The `kv` import: every key is put in the calling plugin's namespace before it reaches the
//! backend.

use super::super::state::PluginState;
use crate::pipeline::bindings::kv_if;

impl kv_if::Host for PluginState {
    fn get(&mut self, key: String) -> Option<Vec<u8>> {
        self.env.kv.get(&self.kv_key(&key))
    }

    fn set(&mut self, key: String, value: Vec<u8>, ttl_ms: Option<u64>) {
        self.env.kv.set(&self.kv_key(&key), value, ttl_ms)
    }

    fn delete(&mut self, key: String) {
        self.env.kv.delete(&self.kv_key(&key))
    }

    fn add(&mut self, key: String, delta: i64, expires_at_ms: u64) -> i64 {
        self.env.kv.add(&self.kv_key(&key), delta, expires_at_ms)
    }

    fn incr(&mut self, key: String, delta: i64, window_ms: u64) -> kv_if::WindowCount {
        let r = self.env.kv.incr(&self.kv_key(&key), delta, window_ms);
        kv_if::WindowCount {
            value: r.value,
            ms_to_reset: r.ms_to_reset,
        }
    }
}
