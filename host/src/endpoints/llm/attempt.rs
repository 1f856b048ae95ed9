//! Calling a model's deployments: one attempt is the adapter's `to-upstream`, the host's HTTP call
//! and, for whole answers, the adapter's `from-upstream`. Failed attempts are retried with backoff,
//! then the next deployment is tried; once a stream has started nothing is retried.

use super::answer::{Answer, Source};
use super::exchange::Exchange;
use super::request::Prepared;
use super::upstream_error::{error_in_success, header_value, is_event_stream, upstream_error};
use crate::error::ApiError;
use crate::http::auth::header_pairs;
use crate::pipeline::bindings::adapter_if::{Provider as ProviderRec, UpstreamCall};
use crate::pipeline::bindings::types::HttpResponse;
use crate::pipeline::stages::adapter::{self, Translator};
use crate::pipeline::{Deployment, Route};
use crate::telemetry::traces;
use crate::upstream::{Outbound, Payload, UpstreamError, read_body};
use axum::body::Body;
use axum::http::{StatusCode, header};
use bytes::Bytes;
use std::time::Instant;
use tracing::Instrument;

/// Largest upstream answer read whole.
const MAX_UPSTREAM_BODY: usize = 64 << 20;

/// How one call to one deployment failed.
enum Attempt {
    /// The request itself is at fault, or the answer has started: no retry.
    Final(ApiError),
    /// The upstream failed before answering: retry, then fall back.
    Retry(ApiError),
    /// This deployment cannot serve now (no key, a long rate limit): fall back at once.
    Next(ApiError),
    /// This deployment cannot serve this request at all (only a provider speaking the client's
    /// API could): the next one is tried, and the client gets this error only if no deployment
    /// failed otherwise.
    Skip(ApiError),
}

impl Attempt {
    /// An upstream failure: connection errors and timeouts (502/504), 429 and 5xx are retried.
    fn upstream(e: impl Into<ApiError>) -> Attempt {
        let e = e.into();
        match e.status {
            // A provider that asks for more than a second's pause will not serve a quick retry.
            StatusCode::TOO_MANY_REQUESTS if e.retry_after.is_some_and(|s| s > 1) => {
                Attempt::Next(e)
            }
            s if s == StatusCode::TOO_MANY_REQUESTS || s.is_server_error() => Attempt::Retry(e),
            _ => Attempt::Final(e),
        }
    }

    fn last(e: impl Into<ApiError>) -> Attempt {
        Attempt::Final(e.into())
    }
}

impl Exchange {
    /// Calls the route's deployments in order: each is retried (with backoff) after connection
    /// errors, timeouts, 429 and 5xx before the first byte, then the next one is tried.
    pub(super) async fn call_provider(
        &mut self,
        route: &Route,
        mut prepared: Prepared,
    ) -> Result<Answer, ApiError> {
        let mut last = None;
        let mut skipped = None;
        for (i, dep) in route.deployments.iter().enumerate() {
            let p = &dep.provider;
            for attempt in 0..=p.retries {
                if attempt > 0 {
                    let backoff = p.retry_backoff.saturating_mul(1 << (attempt - 1).min(8));
                    tokio::time::sleep(backoff).await;
                }
                match self.attempt(dep, &mut prepared, attempt).await {
                    Ok(answer) => {
                        if i > 0 || attempt > 0 {
                            tracing::info!(request_id = %self.ctx.request_id, provider = %p.name, deployment = i, attempt, "answered after a retry or fallback");
                        }
                        return Ok(answer);
                    }
                    Err(Attempt::Final(e)) => return Err(e),
                    Err(Attempt::Skip(e)) => {
                        skipped.get_or_insert(e);
                        break;
                    }
                    Err(Attempt::Next(e)) => {
                        if i + 1 < route.deployments.len() {
                            crate::telemetry::record::fallback(&route.name);
                        }
                        tracing::warn!(request_id = %self.ctx.request_id, provider = %p.name, error = %e, "deployment unusable; trying the next");
                        last = Some(e);
                        break;
                    }
                    Err(Attempt::Retry(e)) => {
                        tracing::warn!(request_id = %self.ctx.request_id, provider = %p.name, attempt, error = %e, "upstream failed before answering");
                        last = Some(e);
                        if attempt < p.retries {
                            crate::telemetry::record::retry(&p.name);
                        } else if i + 1 < route.deployments.len() {
                            crate::telemetry::record::fallback(&route.name);
                        }
                    }
                }
            }
        }
        Err(last
            .or(skipped)
            .unwrap_or_else(|| ApiError::internal("The model has no deployment.")))
    }

    /// One call to one deployment.
    async fn attempt(
        &mut self,
        dep: &Deployment,
        prepared: &mut Prepared,
        n: u32,
    ) -> Result<Answer, Attempt> {
        let provider = &dep.provider;
        self.provider = provider.name.clone();
        self.served_model = dep.upstream_model.clone();
        if let (Some(var), None) = (&provider.api_key_env, &provider.api_key) {
            return Err(Attempt::Next(
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "server_error",
                    format!(
                        "The provider `{}` has no API key: the gateway's operator must set {var}.",
                        provider.name
                    ),
                )
                .code("provider_not_configured"),
            ));
        }
        let plugin = &provider.adapter;
        // A provider that speaks the client's API gets the client's request untranslated, unless
        // a policy or guard changed it or a guard must read the answer.
        let native = (!self.rewritten && self.pipeline.guards.is_empty())
            .then(|| self.front.native_request(&plugin.info, &dep.upstream_model))
            .flatten();
        self.native = native.is_some();
        if let (None, Some(refused)) = (&native, self.front.refused()) {
            // Only the provider's own API could have taken what the translation refused.
            return Err(Attempt::Skip(super::front::invalid(refused.clone())));
        }
        let (native_ctx, body) = match native {
            Some((endpoint, body)) => {
                let mut ctx = self.ctx.clone();
                ctx.endpoint = endpoint;
                (Some(ctx), body)
            }
            None => (None, prepared.upstream_body(&dep.upstream_model)),
        };
        let given: &[u8] = if plugin.info.wants_body { &body } else { &[] };
        let rec = ProviderRec {
            name: provider.name.clone(),
            base_url: provider.base_url.clone(),
            api_key: provider.api_key.clone(),
            upstream_model: dep.upstream_model.clone(),
        };
        let mut lease = plugin.lease().await.map_err(Attempt::last)?;
        let ctx = native_ctx.as_ref().unwrap_or(&self.ctx);
        let call = adapter::to_upstream(&mut lease, ctx, &rec, given)
            .await
            .map_err(Attempt::last)?;
        // Pass-through adapters (and the native lane) have nothing more to do: free their
        // instance now.
        let mut lease = (!plugin.info.passthrough && !self.native).then_some(lease);
        let up = match call {
            UpstreamCall::Respond(resp) if !(100..=599).contains(&resp.status) => {
                return Err(Attempt::last(ApiError::internal(format!(
                    "The adapter plugin `{}` answered with status {}, which is not an HTTP status.",
                    plugin.name, resp.status
                ))));
            }
            UpstreamCall::Respond(resp) => return self.answered_by_adapter(resp, provider.timeout),
            UpstreamCall::Send(up) => up,
        };
        let payload = match (up.body, &self.form) {
            (Some(own), _) => Payload::Json(Bytes::from(own)),
            // A multipart upload: its fields as the stages left them, its files from disk.
            (None, Some(form)) => {
                Payload::Multipart(form.upstream(&prepared.body).await.map_err(|e| {
                    tracing::error!(error = %e, "an upload could not be read back from disk");
                    Attempt::last(ApiError::internal(
                        "The gateway could not read back the upload.",
                    ))
                })?)
            }
            (None, None) => Payload::Json(body),
        };
        let upstream_started = Instant::now();
        let url = format!("{}{}", provider.base_url, up.path);
        let span = traces::upstream_span(&self.span, &provider.name, &url, n);
        let mut headers = up.headers;
        traces::inject(&span, &mut headers);
        let sent = self
            .gw
            .upstream
            .send(Outbound {
                provider: &provider.name,
                method: &up.method,
                url,
                headers: &headers,
                body: payload,
                timeout: provider.timeout,
                client: provider.client.as_ref(),
            })
            .instrument(span.clone())
            .await;
        if let Ok(r) = &sent {
            span.record("http.response.status_code", i64::from(r.status().as_u16()));
        }
        let resp = sent.map_err(|e| match e {
            // The adapter asked for something no HTTP request can carry: its fault, not the
            // provider's.
            UpstreamError::Build { what, .. } => Attempt::last(ApiError::internal(format!(
                "The adapter plugin `{}` of the provider `{}` built a request that cannot be sent: {what}.",
                plugin.name, provider.name
            ))),
            e => Attempt::upstream(e),
        })?;
        drop(span);
        let status = resp.status();
        let content_type = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if status.is_success() {
            let streamed = up.stream
                && content_type
                    .as_deref()
                    .is_some_and(|v| v.contains("event-stream"));
            if streamed
                || !self
                    .endpoint
                    .answer_is_json(content_type.as_deref(), self.json_asked)
            {
                self.upstream_us = upstream_started.elapsed().as_micros() as u64;
                let bytes = crate::upstream::chunks(resp);
                return Ok(if streamed {
                    let translator = match lease {
                        Some(lease) => Some(
                            Translator::open(lease, &self.ctx, &rec)
                                .await
                                .map_err(Attempt::last)?,
                        ),
                        None => None,
                    };
                    Answer::Stream {
                        source: Source::Upstream(Box::pin(bytes)),
                        translator,
                        idle_timeout: provider.timeout,
                    }
                } else {
                    // Audio, transcripts as text and other non-JSON answers flow through as
                    // they arrive.
                    Answer::Binary {
                        content_type,
                        body: Body::from_stream(bytes),
                    }
                });
            }
        }
        let resp_headers = header_pairs(resp.headers(), |_| true);
        let body = read_body(&provider.name, resp, MAX_UPSTREAM_BODY, provider.timeout)
            .await
            .map_err(Attempt::upstream)?;
        self.upstream_us = upstream_started.elapsed().as_micros() as u64;
        let mapped = match lease.as_mut() {
            Some(lease) => {
                let whole = HttpResponse {
                    status: status.as_u16(),
                    headers: resp_headers.clone(),
                    body: body.to_vec(),
                };
                adapter::from_upstream(lease, &self.ctx, &whole)
                    .await
                    .map_err(Attempt::last)?
            }
            None => None,
        };
        let (status, body, resp_headers) = match mapped {
            Some(r) => (
                StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_GATEWAY),
                Bytes::from(r.body),
                r.headers,
            ),
            None => (status, body, resp_headers),
        };
        if !status.is_success() || error_in_success(&body) {
            let status = if status.is_success() {
                StatusCode::BAD_GATEWAY
            } else {
                status
            };
            return Err(Attempt::upstream(upstream_error(
                &provider.name,
                status,
                &body,
                &resp_headers,
            )));
        }
        Ok(Answer::Json {
            status: status.as_u16(),
            body,
        })
    }

    /// An adapter that answered by itself (offline and cached providers).
    fn answered_by_adapter(
        &self,
        resp: HttpResponse,
        idle_timeout: std::time::Duration,
    ) -> Result<Answer, Attempt> {
        let ok = (200..300).contains(&resp.status);
        if self.ctx.stream && is_event_stream(&resp.headers) {
            Ok(Answer::Stream {
                source: Source::Whole(Bytes::from(resp.body)),
                translator: None,
                idle_timeout,
            })
        } else if ok
            && !self.endpoint.answer_is_json(
                header_value(&resp.headers, "content-type").as_deref(),
                self.json_asked,
            )
        {
            Ok(Answer::Binary {
                content_type: header_value(&resp.headers, "content-type"),
                body: Body::from(resp.body),
            })
        } else if ok {
            Ok(Answer::Json {
                status: resp.status,
                body: resp.body.into(),
            })
        } else {
            Err(Attempt::Final(upstream_error(
                &self.provider,
                StatusCode::from_u16(resp.status).unwrap_or(StatusCode::BAD_GATEWAY),
                &resp.body,
                &resp.headers,
            )))
        }
    }
}
