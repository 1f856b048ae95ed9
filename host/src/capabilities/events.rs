//! Where `host.notify` sends a plugin's events: a sink the gateway provides (its webhooks), kept
//! behind a trait so the capability knows nothing of HTTP.

/// Receives the events plugins send.
pub trait Events: Send + Sync {
    /// Queues the event `kind` with `data` (a JSON object) from the plugin `plugin`; returns at
    /// once.
    fn notify(&self, plugin: &str, kind: &str, data: serde_json::Map<String, serde_json::Value>);
}

/// A sink that drops every event (plugin probes, tests).
pub struct NoEvents;

impl Events for NoEvents {
    fn notify(&self, _: &str, _: &str, _: serde_json::Map<String, serde_json::Value>) {}
}
