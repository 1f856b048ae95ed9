//! The `host` capability: logging tagged with the plugin's name, the clock, the plugin's own
//! config table, and events for the operator's webhooks.

use super::state::PluginState;
use crate::pipeline::bindings::host_if;
use crate::time::now_ms;

impl host_if::Host for PluginState {
    fn log(&mut self, level: host_if::Level, message: String) {
        let plugin = &*self.env.name;
        match level {
            host_if::Level::Trace => tracing::trace!(plugin, "{message}"),
            host_if::Level::Debug => tracing::debug!(plugin, "{message}"),
            host_if::Level::Info => tracing::info!(plugin, "{message}"),
            host_if::Level::Warn => tracing::warn!(plugin, "{message}"),
            host_if::Level::Error => tracing::error!(plugin, "{message}"),
        }
    }

    fn now_ms(&mut self) -> u64 {
        now_ms()
    }

    fn config(&mut self) -> String {
        self.env.config_json.to_string()
    }

    fn notify(&mut self, kind: String, data: String) {
        let plugin = &*self.env.name;
        match serde_json::from_str::<serde_json::Value>(&data) {
            Ok(serde_json::Value::Object(map)) => self.env.events.notify(plugin, &kind, map),
            _ => tracing::warn!(plugin, kind, "event dropped: its data is not a JSON object"),
        }
    }
}
