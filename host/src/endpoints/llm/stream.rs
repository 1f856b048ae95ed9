//! Streams: frames upstream bytes into whole events, maps them through the adapter (unless it is
//! pass-through), reads usage from the final usage chunk (which the host always asks for) and
//! removes it when the client did not ask, adds the metadata object in the last chunk, and ends
//! with `data: [DONE]`.
//!
//! A client that goes away stops the task, which drops the upstream response and so cancels the
//! upstream request. An upstream that fails or stalls mid-stream ends the stream with an error
//! event, never a hang.

use super::answer::Source;
use super::body::splice_field;
use super::exchange::Exchange;
use super::guarded::Guarded;
use super::pump::{Gone, Pump, Template};
use crate::error::ApiError;
use crate::http::sse::{self, Event, Framer};
use crate::pipeline::bindings::types::SseEvent;
use crate::pipeline::stages::StreamGuards;
use crate::pipeline::stages::adapter::Translator;
use crate::upstream::body_error;
use axum::body::Body;
use bytes::Bytes;
use futures::StreamExt;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::mpsc;

/// A stream to serve.
pub(super) struct StreamJob {
    pub x: Exchange,
    pub source: Source,
    /// What translates the stream, unless the adapter is pass-through.
    pub translator: Option<Translator>,
    pub idle_timeout: Duration,
}

/// Starts the stream task and returns the client's response body.
pub(super) fn spawn(job: StreamJob) -> Body {
    let (tx, rx) = mpsc::channel::<Bytes>(32);
    let tasks = job.x.gw.tasks.clone();
    let span = job.x.span.clone();
    tasks.spawn(tracing::Instrument::instrument(run(job, tx), span));
    Body::from_stream(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    }))
}

async fn run(job: StreamJob, tx: mpsc::Sender<Bytes>) {
    let StreamJob {
        mut x,
        source,
        mut translator,
        idle_timeout,
    } = job;
    // Response guards read generated text (chat and completions), not transcripts.
    let opened = if x.endpoint.generates_text() {
        StreamGuards::open(&x.pipeline, &x.ctx, x.principal.as_ref()).await
    } else {
        Ok(None)
    };
    let guarded = match opened {
        Ok(g) => g.map(Guarded::new),
        Err(e) => {
            let event = sse::encode(None, &e.body().to_string());
            let field = &x.pipeline.config.server.metadata_field;
            let event = match x.front.stream(&x.served_model, field) {
                Some(mut front) => front.translate(&event),
                None => event,
            };
            let _ = tx.send(event).await;
            if let Some(t) = translator {
                t.close().await;
            }
            x.complete(e.status.as_u16(), None);
            return;
        }
    };
    let mut pump = Pump {
        tx,
        client_wants_usage: x.client_wants_usage,
        usage: None,
        held: None,
        template: None,
        done: false,
        errored: None,
        clock: crate::telemetry::record::StreamClock::new(
            x.endpoint_name(),
            x.route_name.as_deref().unwrap_or("unknown"),
            &x.provider,
            x.started,
        ),
        guarded,
        front: if x.native {
            None
        } else {
            x.front
                .stream(&x.served_model, &x.pipeline.config.server.metadata_field)
        },
        native: if x.native {
            x.front.native_reader()
        } else {
            None
        },
        transcript: x.endpoint.transcript_stream(),
        audio_seconds: None,
    };
    let result = pump_all(&x, &mut pump, source, &mut translator, idle_timeout).await;
    // The status the stream ended with; 499 when the client went away.
    let status = match result {
        Ok(()) => match pump.errored {
            Some(status) => status,
            None => finish(&mut x, &mut pump, &mut translator)
                .await
                .unwrap_or(499),
        },
        Err(Failure::Gone) => 499,
        Err(Failure::Error(e)) => {
            // The error event ends the stream; the client's SDK raises it as an API error.
            let event = pump.error_event(&e);
            let _ = pump.send(event).await;
            e.status.as_u16()
        }
    };
    if let Some(t) = translator {
        t.close().await;
    }
    let usage = pump.usage.take();
    x.audio_seconds = pump.audio_seconds;
    x.complete(status, usage);
}

enum Failure {
    Gone,
    Error(ApiError),
}

impl From<Gone> for Failure {
    fn from(_: Gone) -> Self {
        Failure::Gone
    }
}

async fn pump_all(
    x: &Exchange,
    pump: &mut Pump,
    source: Source,
    translator: &mut Option<Translator>,
    idle_timeout: Duration,
) -> Result<(), Failure> {
    let mut framer = Framer::default();
    let oversize = |_| {
        Failure::Error(ApiError::bad_gateway(
            "The provider sent an oversized stream event.",
        ))
    };
    match source {
        Source::Whole(bytes) => {
            let mut events = framer.push(&bytes).map_err(oversize)?;
            events.extend(framer.finish());
            for e in events {
                handle_event(pump, translator, e).await?;
            }
        }
        Source::Upstream(mut body) => loop {
            if pump.done || pump.errored.is_some() {
                break;
            }
            let next = tokio::select! {
                // A client that disconnects stops the stream even while the upstream is silent.
                _ = pump.tx.closed() => return Err(Failure::Gone),
                n = tokio::time::timeout(idle_timeout, body.next()) => n,
            };
            match next {
                Err(_) => {
                    return Err(Failure::Error(ApiError::gateway_timeout(
                        &x.provider,
                        idle_timeout.as_millis(),
                    )));
                }
                Ok(None) => {
                    if let Some(e) = framer.finish() {
                        handle_event(pump, translator, e).await?;
                    }
                    // A pass-through stream is complete only with its `[DONE]`; a translating
                    // adapter says in `finish-stream` whether its provider's stream completed.
                    if translator.is_none() && !pump.done && pump.errored.is_none() {
                        return Err(Failure::Error(ApiError::bad_gateway(format!(
                            "The stream from the provider `{}` ended before it was complete.",
                            x.provider
                        ))));
                    }
                    break;
                }
                Ok(Some(Err(e))) => {
                    let mut err = ApiError::from(body_error(&x.provider, &*e));
                    err.message =
                        format!("The stream from the provider `{}` broke off.", x.provider);
                    return Err(Failure::Error(err));
                }
                Ok(Some(Ok(chunk))) => {
                    for e in framer.push(&chunk).map_err(oversize)? {
                        handle_event(pump, translator, e).await?;
                    }
                }
            }
        },
    }
    Ok(())
}

async fn handle_event(
    pump: &mut Pump,
    translator: &mut Option<Translator>,
    e: Event,
) -> Result<(), Failure> {
    if pump.done {
        return Ok(());
    }
    let Some(translator) = translator.as_mut() else {
        return Ok(pump.forward(e.event.as_deref(), &e.data).await?);
    };
    let ev = SseEvent {
        event: e.event,
        data: e.data,
    };
    let out = translator.on_event(&ev).await.map_err(Failure::Error)?;
    for o in out {
        pump.forward(o.event.as_deref(), &o.data).await?;
    }
    Ok(())
}

/// The normal end: the adapter's last events, enrich, the metadata chunk, `[DONE]`. Returns the
/// status the stream ended with, or `Gone` when the client went away.
async fn finish(
    x: &mut Exchange,
    pump: &mut Pump,
    translator: &mut Option<Translator>,
) -> Result<u16, Gone> {
    if let Some(t) = translator.as_mut() {
        match t.finish().await {
            Ok((events, usage)) => {
                pump.done = false;
                for e in events {
                    pump.forward(e.event.as_deref(), &e.data).await?;
                }
                if usage.is_some() {
                    pump.usage = usage;
                }
            }
            Err(e) => return fail_late(pump, e).await,
        }
    }
    // The instance goes back to its pool.
    *translator = None;
    let fallback = Template {
        id: x.ctx.request_id.clone().into(),
        object: "chat.completion.chunk".into(),
        created: 0.into(),
        model: x.served_model.clone().into(),
    };
    pump.flush_guarded(fallback).await?;
    if let Some(status) = pump.errored {
        return Ok(status);
    }
    let usage = pump.usage;
    x.audio_seconds = pump.audio_seconds;
    let outcome = x.outcome(200, usage);
    if let Err(e) = x.enrich(&outcome).await {
        return fail_late(pump, e).await;
    }
    if let Some(native) = pump.native.as_ref() {
        // The provider's own closing events were the client's; keep a Response it asked for.
        if let Some(response) = native.response() {
            store(x, response).await;
        }
        return Ok(200);
    }
    let field = x.pipeline.config.server.metadata_field.clone();
    let meta = x.metadata_json(&outcome);
    let held = pump.held.take();
    let last = match (held, meta) {
        (Some(chunk), Some(meta)) if pump.client_wants_usage => Some(
            splice_field(chunk.as_bytes(), &field, &meta).unwrap_or_else(|| chunk.into_bytes()),
        ),
        (Some(chunk), None) if pump.client_wants_usage => Some(chunk.into_bytes()),
        // A transcript stream has no chunk of chat's shape to carry metadata in.
        (_, Some(_)) if pump.transcript => None,
        (_, Some(meta)) => {
            let t = pump.template.clone().unwrap_or(Template {
                id: x.ctx.request_id.clone().into(),
                object: "chat.completion.chunk".into(),
                created: 0.into(),
                model: x.served_model.clone().into(),
            });
            let chunk = serde_json::json!({
                "id": t.id, "object": t.object, "created": t.created, "model": t.model, "choices": [],
            });
            splice_field(chunk.to_string().as_bytes(), &field, &meta)
        }
        (_, None) => None,
    };
    if let Some(last) = last {
        let text = String::from_utf8_lossy(&last).into_owned();
        pump.send(sse::encode(None, &text)).await?;
    }
    pump.send(Bytes::from_static(sse::DONE)).await?;
    if let Some(response) = pump.front.as_ref().and_then(|f| f.response()) {
        store(x, response).await;
    }
    Ok(200)
}

/// Keeps a streamed Response the client asked to store. The client has its answer already: a
/// store that fails is logged, and `GET /responses/{id}` will not find it.
async fn store(x: &Exchange, response: serde_json::Value) {
    if let Err(e) = x.store_response(response).await {
        tracing::error!(request_id = %x.ctx.request_id, error = %e, "a streamed response could not be stored");
    }
}

/// A failure after the stream started: an error event ends it.
async fn fail_late(pump: &mut Pump, e: ApiError) -> Result<u16, Gone> {
    let event = pump.error_event(&e);
    pump.send(event).await?;
    Ok(e.status.as_u16())
}
