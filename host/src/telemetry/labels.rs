//! The label sets of the gateway's series. Every value is bounded: configured names, statuses,
//! kinds; never a user id, a request id or a name a client made up.

use prometheus_client::encoding::EncodeLabelSet;

/// `gen_ai.client.token.usage`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TokenLabels {
    /// `input` or `output`.
    pub gen_ai_token_type: &'static str,
    /// `chat`, `text_completion`, `embeddings`, ...
    pub gen_ai_operation_name: &'static str,
    /// The configured model.
    pub gen_ai_request_model: String,
    /// The provider that answered.
    pub gen_ai_provider_name: String,
}

/// `gen_ai.client.operation.duration` and `gen_ai.server.time_to_first_token`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabels {
    /// `chat`, `text_completion`, `embeddings`, ...
    pub gen_ai_operation_name: &'static str,
    /// The configured model.
    pub gen_ai_request_model: String,
    /// The provider that answered.
    pub gen_ai_provider_name: String,
    /// Empty on success, else the HTTP status class (`4xx`, `5xx`) or `499`.
    pub error_type: String,
}

/// `sluice_requests`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// Endpoint family (`chat.completions`, ...).
    pub endpoint: &'static str,
    /// The configured model, `unknown` when the request named none the gateway serves.
    pub model: String,
    /// The provider that answered (empty when none did).
    pub provider: String,
    /// The status sent.
    pub status: String,
    /// The key.
    pub key_id: String,
}

/// `sluice_cost_usd` and `sluice_audio_seconds`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CostLabels {
    /// The configured model.
    pub model: String,
    /// The provider.
    pub provider: String,
    /// The key.
    pub key_id: String,
}

/// What happened to a call that could not reach its store.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    /// `failed` (the request failed) or `open` (it went on uncounted).
    pub outcome: &'static str,
}

/// One label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EndpointLabel {
    /// Endpoint family.
    pub endpoint: &'static str,
}

/// One label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProviderLabel {
    /// The provider.
    pub provider: String,
}

/// One label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ModelLabel {
    /// The configured model.
    pub model: String,
}

/// Rate-limit denials.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DenialLabels {
    /// Endpoint family.
    pub endpoint: &'static str,
    /// The key.
    pub key_id: String,
}

/// A plugin.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PluginLabels {
    /// Its configured name.
    pub plugin: String,
    /// Its stage.
    pub stage: &'static str,
}

/// A plugin's failures.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PluginFailureLabels {
    /// Its configured name.
    pub plugin: String,
    /// Its stage.
    pub stage: &'static str,
    /// `trap`, `timeout`, `out_of_memory` or `unavailable`.
    pub kind: &'static str,
}

/// A plugin's instances.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct InstanceLabels {
    /// Its configured name.
    pub plugin: String,
    /// Its stage.
    pub stage: &'static str,
    /// `in_use` or `idle`.
    pub state: &'static str,
}

/// One label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabel {
    /// `ok` or `rejected`.
    pub result: &'static str,
}

/// One label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabel {
    /// The status.
    pub status: String,
}

/// MCP tool calls.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ToolLabels {
    /// The MCP server.
    pub server: String,
    /// The tool (`other` when the server did not answer for it: names clients make up stay out).
    pub tool: String,
    /// The usage status (200, 422, 403, 429, 400, 502, 499).
    pub status: String,
}

/// A webhook delivery's outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WebhookLabels {
    /// The webhook's name from the config.
    pub webhook: String,
    /// `delivered`, `retried` (an attempt failed and another follows) or `failed` (gave up).
    pub outcome: &'static str,
}
