//! The `host` capability: logging tagged with the plugin's name, the clock, and the plugin's own
//! config table.

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
}
