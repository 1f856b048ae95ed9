//! Answering the client: a whole JSON body (usage read, enrich, metadata spliced in), binary bytes
//! as they arrive, a policy plugin's own response, a stream, or an error. Every path stops the
//! overhead clock when the response headers are decided, and ends the exchange.

use super::answer::Answer;
use super::body::{AnswerJson, splice_field};
use super::exchange::Exchange;
use super::stream;
use crate::error::ApiError;
use crate::pipeline::bindings::guard_stage::Direction;
use crate::pipeline::bindings::types::{HttpResponse, Usage};
use crate::pipeline::stages;
use crate::pipeline::stages::adapter::Translator;
use crate::state::add_headers;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;

impl Exchange {
    /// Sends `answer` to the client.
    pub(super) async fn respond(self, answer: Answer) -> Response {
        match answer {
            Answer::Json { status, body } => self.json(status, body).await,
            Answer::Binary { content_type, body } => self.binary(content_type, body).await,
            Answer::Plugin(r) => self.plugin_response(r),
            Answer::Stream {
                source,
                translator,
                idle_timeout,
            } => self.stream(source, translator, idle_timeout),
        }
    }

    /// Answers with `e`, and ends the exchange with its status.
    pub(super) fn fail(self, e: ApiError) -> Response {
        self.fail_with_usage(e, None)
    }

    /// Answers with `e`, and ends the exchange with its status and the usage of an answer the
    /// client does not get (a guard refused it).
    fn fail_with_usage(mut self, e: ApiError, usage: Option<Usage>) -> Response {
        let mut resp = self.front.error_response(e);
        self.finish_headers(resp.headers_mut());
        let status = resp.status().as_u16();
        self.complete(status, usage);
        resp
    }

    /// Runs the guards on a whole answer of an endpoint that generates text; returns the body to
    /// send.
    async fn guard_answer(&self, body: Bytes) -> Result<Bytes, ApiError> {
        if self.pipeline.guards.is_empty() || !self.endpoint.generates_text() {
            return Ok(body);
        }
        let rewritten = stages::run_guards_json(
            &self.pipeline,
            &self.ctx,
            self.principal.as_ref(),
            Direction::Response,
            &body,
        )
        .await?;
        Ok(rewritten.map(Bytes::from).unwrap_or(body))
    }

    /// A whole JSON answer: usage, enrich, metadata, headers.
    async fn json(mut self, status: u16, body: Bytes) -> Response {
        // JSON is UTF-8; the parse below skips the strings it does not keep without checking them.
        if std::str::from_utf8(&body).is_err() {
            let e = ApiError::bad_gateway(format!(
                "The provider `{}` answered with invalid JSON (not UTF-8).",
                self.provider
            ));
            return self.fail(e);
        }
        let usage = if self.native {
            self.front.native_usage(&body)
        } else {
            match serde_json::from_slice::<AnswerJson>(&body) {
                Ok(answer) => {
                    self.audio_seconds = answer.audio_seconds();
                    answer.usage.as_ref().and_then(|u| u.tokens())
                }
                Err(_) => {
                    let e = ApiError::bad_gateway(format!(
                        "The provider `{}` answered with invalid JSON.",
                        self.provider
                    ));
                    return self.fail(e);
                }
            }
        };
        let body = match self.guard_answer(body).await {
            Ok(body) => body,
            // The answer was generated and is paid for: its usage is recorded with the refusal.
            Err(e) => return self.fail_with_usage(e, usage),
        };
        let outcome = self.outcome(status, usage);
        if let Err(e) = self.enrich(&outcome).await {
            return self.fail(e);
        }
        let body = match self.outbound_json(body).await {
            Ok(body) => body,
            Err(e) => return self.fail_with_usage(e, usage),
        };
        let body = match self.metadata_json(&outcome) {
            Some(meta) => {
                let field = &self.pipeline.config.server.metadata_field;
                splice_field(&body, field, &meta)
                    .map(Bytes::from)
                    .unwrap_or(body)
            }
            None => body,
        };
        let mut resp = Response::new(Body::from(body));
        *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        self.finish_headers(resp.headers_mut());
        self.complete(status, outcome.usage);
        resp
    }

    /// A binary answer (audio): enrich, headers, then the bytes as they come.
    async fn binary(mut self, content_type: Option<String>, body: Body) -> Response {
        let outcome = self.outcome(200, None);
        if let Err(e) = self.enrich(&outcome).await {
            return self.fail(e);
        }
        let mut resp = Response::new(body);
        let content_type = content_type
            .and_then(|c| HeaderValue::from_str(&c).ok())
            .unwrap_or(HeaderValue::from_static("application/octet-stream"));
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, content_type);
        self.finish_headers(resp.headers_mut());
        self.complete(200, None);
        resp
    }

    /// A whole response a policy plugin answered with.
    fn plugin_response(mut self, r: HttpResponse) -> Response {
        let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK);
        let mut resp = Response::new(Body::from(r.body));
        *resp.status_mut() = status;
        add_headers(resp.headers_mut(), &r.headers);
        self.finish_headers(resp.headers_mut());
        self.complete(status.as_u16(), None);
        resp
    }

    /// A stream: headers now, then the stream task owns the exchange until the stream ends.
    fn stream(
        mut self,
        source: super::answer::Source,
        translator: Option<Translator>,
        idle_timeout: std::time::Duration,
    ) -> Response {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        self.finish_headers(&mut headers);
        let body = stream::spawn(stream::StreamJob {
            x: self,
            source,
            translator,
            idle_timeout,
        });
        let mut resp = Response::new(body);
        *resp.headers_mut() = headers;
        resp
    }

    /// The response headers are decided: stops the overhead clock, and adds the request id, the
    /// provider that answered, the gateway's overhead and the stages' headers.
    fn finish_headers(&mut self, headers: &mut HeaderMap) {
        let overhead = self.overhead_now();
        self.overhead_us = Some(overhead);
        add_headers(headers, &self.additions.headers);
        if let Ok(v) = HeaderValue::from_str(&self.ctx.request_id) {
            headers.insert("x-request-id", v);
        }
        if !self.provider.is_empty()
            && let Ok(v) = HeaderValue::from_str(&self.provider)
        {
            headers.insert("x-sluice-provider", v);
        }
        headers.insert("x-sluice-overhead-us", HeaderValue::from(overhead));
    }
}
