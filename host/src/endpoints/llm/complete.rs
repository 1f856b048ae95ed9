//! How an exchange ends: [`Exchange::complete`] writes the usage row and starts the
//! `on-complete` hooks (a limiter's or budget's reconciliation) off the response path; an
//! exchange dropped before it completed (the client went away, or the gateway closed the
//! connection at the end of its shutdown drain) does the same, as 499.

use super::exchange::Exchange;
use crate::pipeline::bindings::types::Usage;
use crate::pipeline::stages;
use crate::store::UsageRow;
use crate::time::now_ms;

impl Exchange {
    /// Records the request's usage row and starts the `on-complete` hooks, when the response is
    /// decided (for streams: when the stream ends). The hooks run in a task of their own, off the
    /// response path.
    pub fn complete(mut self, status: u16, usage: Option<Usage>) {
        self.finish(status, usage);
    }

    /// What `complete` does, from a borrow (the drop of an exchange that never completed runs it
    /// too, so a reservation is given back when the client goes away mid-request).
    fn finish(&mut self, status: u16, usage: Option<Usage>) {
        let outcome = self.outcome(status, usage);
        self.record(status, usage, outcome.latency_ms);
        if self.ran.is_empty() {
            return;
        }
        let (Some(principal), Some(meta)) = (self.principal.take(), self.meta.take()) else {
            return;
        };
        let ran = std::mem::take(&mut self.ran);
        let ctx = self.ctx.clone();
        let hooks = async move {
            stages::run_on_complete(&ran, &ctx, &principal, &meta, &outcome).await;
        };
        // An exchange dropped outside the runtime (at exit) has no task to run hooks in.
        if tokio::runtime::Handle::try_current().is_ok() {
            self.gw
                .tasks
                .spawn(tracing::Instrument::instrument(hooks, self.span.clone()));
        }
    }

    /// Writes the usage row (once).
    fn record(&mut self, status: u16, usage: Option<Usage>, latency_ms: u32) {
        if std::mem::replace(&mut self.recorded, true) {
            return;
        }
        let u = usage.unwrap_or(Usage {
            prompt_tokens: 0,
            completion_tokens: 0,
            cached_tokens: 0,
        });
        let row = UsageRow {
            at_ms: now_ms(),
            request_id: self.ctx.request_id.clone(),
            key_id: self.ctx.key_id.clone(),
            user_id: self.ctx.user_id.clone(),
            endpoint: self.endpoint_name().into(),
            model: self.ctx.model.clone(),
            served_model: self.served_model.clone(),
            provider: self.provider.clone(),
            status,
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            cached_tokens: u.cached_tokens,
            cost_usd: self.additions.cost_usd.unwrap_or(0.0),
            latency_ms,
            overhead_us: self.overhead_us.unwrap_or_else(|| self.overhead_now()),
            batch_id: self.batch_id.clone(),
            audio_seconds: self.audio_seconds.unwrap_or(0.0),
            team: self.principal.as_ref().and_then(|p| p.team.clone()),
        };
        let model = self.route_name.as_deref().unwrap_or("unknown");
        crate::telemetry::record::observe_request(
            self.endpoint_name(),
            model,
            &row,
            usage.is_some(),
            self.started.elapsed(),
        );
        crate::telemetry::access_log(&row);
        if !self.span.is_none() {
            self.span
                .record("gen_ai.provider.name", row.provider.as_str());
            // OpenTelemetry has no unsigned integers: numbers go as i64.
            self.span
                .record("http.response.status_code", i64::from(row.status));
            if usage.is_some() {
                self.span
                    .record("gen_ai.usage.input_tokens", i64::from(row.prompt_tokens));
                self.span.record(
                    "gen_ai.usage.output_tokens",
                    i64::from(row.completion_tokens),
                );
            }
            if row.status >= 500 {
                self.span.record("otel.status_code", "ERROR");
            }
        }
        self.gw.usage.record(row);
    }
}

impl Drop for Exchange {
    fn drop(&mut self) {
        if !self.recorded {
            self.finish(499, None);
        }
    }
}
