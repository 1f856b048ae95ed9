//! What stages add to a response, and how a failing plugin's `on_error` is applied.

use crate::error::ApiError;
use crate::pipeline::plugin::{OnError, Plugin, PluginError, World};

/// Headers and metadata that stages add to the response.
#[derive(Default)]
pub struct Additions {
    /// Response headers.
    pub headers: Vec<(String, String)>,
    /// Fields of the metadata object (values are JSON text).
    pub metadata: Vec<(String, String)>,
    /// The request's cost in USD, as the enrich stage priced it.
    pub cost_usd: Option<f64>,
}

/// Applies a plugin's `on_error`: None when the failure is skipped.
pub(super) fn fail_open<W: World>(p: &Plugin<W>, e: PluginError) -> Option<ApiError> {
    if p.settings.on_error == OnError::FailOpen {
        tracing::warn!(error = %e, "plugin failed; skipped (on_error = fail-open)");
        None
    } else {
        Some(e.into())
    }
}
