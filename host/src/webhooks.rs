//! `[[webhooks]]`: events plugins send (`host.notify`, such as `budget.threshold`) delivered to
//! the operator's endpoints, signed and retried, off the request path.
//!
//! Each event is POSTed as JSON `{"id", "type", "created", "data"}` with the headers
//! `x-sluice-event` (the type), `x-sluice-event-id` (the same on every retry, so receivers can
//! drop duplicates) and, when the webhook has a secret, `x-sluice-signature: t=<unix seconds>,
//! v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>`. A receiver checks the signature and
//! that `t` is recent. A 2xx answer delivers the event; anything else is retried after
//! `retry_backoff_ms`, doubling each time, until `max_attempts`. Events wait in a bounded queue:
//! past 10,000 undelivered events new ones are dropped with a warning, and events still queued
//! when the gateway stops are lost (each is also in the log).

use crate::capabilities::Events;
use crate::config::WebhookConfig;
use arc_swap::ArcSwap;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Events waiting for delivery, at most.
const MAX_PENDING: usize = 10_000;
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// A configured webhook, its secret read from the environment.
struct Hook {
    config: WebhookConfig,
    secret: Option<Vec<u8>>,
}

/// The webhooks of the current config, and the deliveries in flight.
pub struct Webhooks {
    hooks: ArcSwap<Vec<Arc<Hook>>>,
    client: reqwest::Client,
    pending: Arc<AtomicUsize>,
    tasks: tokio_util::task::TaskTracker,
}

impl Webhooks {
    /// No webhooks yet; `apply` sets them.
    pub fn new(client: reqwest::Client, tasks: tokio_util::task::TaskTracker) -> Arc<Webhooks> {
        Arc::new(Webhooks {
            hooks: ArcSwap::from_pointee(Vec::new()),
            client,
            pending: Arc::new(AtomicUsize::new(0)),
            tasks,
        })
    }

    /// Takes the webhooks of a (re)loaded config. Deliveries under way keep their old settings.
    pub fn apply(&self, configs: &[WebhookConfig]) {
        let hooks = configs
            .iter()
            .map(|c| {
                let secret = c
                    .secret_env
                    .as_ref()
                    .and_then(|v| std::env::var(v).ok())
                    .filter(|s| !s.is_empty())
                    .map(String::into_bytes);
                Arc::new(Hook {
                    config: c.clone(),
                    secret,
                })
            })
            .collect();
        self.hooks.store(Arc::new(hooks));
    }

    /// Events waiting for delivery now.
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }
}

impl Events for Webhooks {
    fn notify(&self, plugin: &str, kind: &str, data: Map<String, Value>) {
        let hooks = self.hooks.load();
        let targets: Vec<Arc<Hook>> = hooks
            .iter()
            .filter(|h| h.config.wants(kind))
            .cloned()
            .collect();
        if targets.is_empty() {
            return;
        }
        let id = format!("evt_{:024x}", rand::random::<u128>() >> 32);
        let created = crate::time::now_ms() / 1000;
        let body = json!({"id": id, "type": kind, "created": created, "data": data}).to_string();
        tracing::info!(plugin, event = kind, id = %id, "event queued for {} webhook(s)", targets.len());
        for hook in targets {
            if self.pending.fetch_add(1, Ordering::Relaxed) >= MAX_PENDING {
                self.pending.fetch_sub(1, Ordering::Relaxed);
                tracing::warn!(webhook = %hook.config.name, event = kind, id = %id, "webhook queue full: event dropped");
                continue;
            }
            let delivery = Delivery {
                hook,
                client: self.client.clone(),
                id: id.clone(),
                kind: kind.to_string(),
                body: body.clone(),
            };
            let pending = Arc::clone(&self.pending);
            self.tasks.spawn(async move {
                delivery.run().await;
                pending.fetch_sub(1, Ordering::Relaxed);
            });
        }
    }
}

/// One event on its way to one webhook.
struct Delivery {
    hook: Arc<Hook>,
    client: reqwest::Client,
    id: String,
    kind: String,
    body: String,
}

impl Delivery {
    /// Attempts until delivered or out of attempts.
    async fn run(self) {
        let c = &self.hook.config;
        let mut backoff = Duration::from_millis(c.retry_backoff_ms);
        for attempt in 1..=c.max_attempts {
            match self.attempt().await {
                Ok(()) => {
                    crate::telemetry::record::webhook(&c.name, "delivered");
                    tracing::debug!(webhook = %c.name, id = %self.id, attempt, "event delivered");
                    return;
                }
                Err(reason) if attempt < c.max_attempts => {
                    crate::telemetry::record::webhook(&c.name, "retried");
                    tracing::warn!(webhook = %c.name, id = %self.id, attempt, "event delivery failed, retrying in {backoff:?}: {reason}");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                Err(reason) => {
                    crate::telemetry::record::webhook(&c.name, "failed");
                    tracing::error!(webhook = %c.name, id = %self.id, attempt, body = %self.body, "event not delivered, giving up: {reason}");
                }
            }
        }
    }

    /// One POST; Err names why it did not deliver.
    async fn attempt(&self) -> Result<(), String> {
        let c = &self.hook.config;
        let mut req = self
            .client
            .post(&c.url)
            .timeout(Duration::from_millis(c.timeout_ms))
            .header("content-type", "application/json")
            .header("x-sluice-event", &self.kind)
            .header("x-sluice-event-id", &self.id);
        if let Some(secret) = &self.hook.secret {
            req = req.header(
                "x-sluice-signature",
                signature(secret, crate::time::now_ms() / 1000, &self.body),
            );
        }
        match req.body(self.body.clone()).send().await {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(format!("answered {}", r.status())),
            Err(e) => Err(crate::error::error_chain(&e)),
        }
    }
}

/// The `x-sluice-signature` value: `t=<seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
pub fn signature(secret: &[u8], t: u64, body: &str) -> String {
    // HMAC takes a key of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| {
        <Hmac<Sha256> as Mac>::new_from_slice(&[]).expect("an empty HMAC key is valid")
    });
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_time_dot_body() {
        // RFC 4231 test case 2 checks the HMAC itself; here the framing: "<t>.<body>".
        let s = signature(b"whsec", 1_700_000_000, "{}");
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"whsec").expect("key");
        mac.update(b"1700000000.{}");
        let want = hex::encode(mac.finalize().into_bytes());
        assert_eq!(s, format!("t=1700000000,v1={want}"));
        let rfc = {
            let mut m = <Hmac<Sha256> as Mac>::new_from_slice(b"Jefe").expect("key");
            m.update(b"what do ya want for nothing?");
            hex::encode(m.finalize().into_bytes())
        };
        assert_eq!(
            rfc,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
