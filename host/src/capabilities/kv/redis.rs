//! The `kv` capability on Redis (or Valkey), shared by every replica: each call is one round trip,
//! and every read-modify-write is one Lua script, so counters and reservations are atomic across
//! replicas. Windows follow Redis's clock, not the replicas'.
//!
//! The connections are [`ConnectionManager`]s: one multiplexed connection per serving thread
//! (made on that thread, so a call and its answer never cross threads), each reconnected by itself
//! after Redis restarts; every call has a deadline, past which it counts as unavailable.

use super::store::{Reservation, Reserved, WindowCount};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// After a call finds Redis unreachable, calls fail at once for this long (ms) instead of each
/// waiting out its deadline; the connection is re-established in the background meanwhile.
const BACKOFF_MS: u64 = 200;

/// The shared Lua helpers, prepended to each script.
const PRELUDE: &str = include_str!("redis.lua");

/// Redis could not be reached in time, or answered with an error.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the kv store (Redis) is unavailable: {reason}")]
pub struct KvUnavailable {
    /// What failed, for the log (no credentials: the URL is never part of it).
    pub reason: String,
}

/// The scripts, compiled once (their SHA1s are what each call sends).
struct Scripts {
    get: redis::Script,
    add: redis::Script,
    seed: redis::Script,
    reserve: redis::Script,
    incr_all: redis::Script,
}

impl Scripts {
    fn new() -> Scripts {
        let script = |body: &str| redis::Script::new(&format!("{PRELUDE}\n{body}"));
        Scripts {
            get: script(
                "local t = redis.call('TYPE', KEYS[1])['ok']
                 if t == 'string' then return redis.call('GET', KEYS[1]) end
                 if t == 'hash' then return redis.call('HGET', KEYS[1], 'n') end
                 return false",
            ),
            add: script("return add_total(KEYS[1], ARGV[1], ARGV[2])"),
            // Budget seeding: adds to both totals only if the first is absent, so replicas
            // starting together seed once.
            seed: script(
                "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
                 add_total(KEYS[1], ARGV[1], ARGV[2])
                 add_total(KEYS[2], ARGV[1], ARGV[2])
                 return 1",
            ),
            // ARGV: window, then (amount, limit) per key. Returns {1, ms left, value...} when
            // granted, {0, index, would reach, ms left} when refused (nothing added).
            reserve: script(
                "local w = tonumber(ARGV[1])
                 local start, left = window(w)
                 local pending = {}
                 for i = 1, #KEYS do
                   local k = KEYS[i]
                   local amount = tonumber(ARGV[2 * i])
                   if pending[k] == nil then pending[k] = counted(k, start, w) end
                   if amount > 0 and pending[k] + amount > tonumber(ARGV[2 * i + 1]) then
                     return {0, i - 1, pending[k] + amount, left}
                   end
                   pending[k] = pending[k] + amount
                 end
                 local out = {1, left}
                 for i = 1, #KEYS do out[i + 2] = bump(KEYS[i], ARGV[2 * i], start, w) end
                 return out",
            ),
            // ARGV: window, then the delta per key. Returns {ms left, value...}.
            incr_all: script(
                "local w = tonumber(ARGV[1])
                 local start, left = window(w)
                 local out = {left}
                 for i = 1, #KEYS do out[i + 1] = bump(KEYS[i], ARGV[i + 1], start, w) end
                 return out",
            ),
        }
    }
}

/// The Redis backend.
pub struct RedisKv {
    client: redis::Client,
    config: ConnectionManagerConfig,
    /// Per serving thread (index [`crate::http::cores::core`]; 0 off them), made on first use.
    conns: Vec<std::sync::OnceLock<ConnectionManager>>,
    prefix: String,
    timeout: Duration,
    scripts: Scripts,
    /// When a call last found Redis unreachable (ms since the epoch; 0: never).
    failed_at_ms: AtomicU64,
}

fn unavailable(e: impl std::fmt::Display) -> KvUnavailable {
    KvUnavailable {
        reason: e.to_string(),
    }
}

impl RedisKv {
    /// A client of the Redis at `url`. It connects on first use (a gateway starts while Redis is
    /// down, and serves as `on_unavailable` says until Redis is up).
    pub fn new(
        url: &str,
        prefix: &str,
        timeout: Duration,
        threads: usize,
    ) -> Result<RedisKv, KvUnavailable> {
        let client = redis::Client::open(url).map_err(|e| KvUnavailable {
            reason: format!("invalid Redis URL ({:?})", e.kind()),
        })?;
        let config = ConnectionManagerConfig::new()
            // Connecting may take longer than a call waits (TLS, a remote Redis): the connection
            // is made in the background, and calls wait for it only up to their own deadline.
            .set_connection_timeout(Some(timeout.max(Duration::from_secs(2))))
            .set_response_timeout(Some(timeout))
            // Reconnecting is retried briefly; a call that fails also starts a new attempt.
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        Ok(RedisKv {
            client,
            config,
            conns: (0..=threads).map(|_| std::sync::OnceLock::new()).collect(),
            prefix: prefix.to_string(),
            timeout,
            scripts: Scripts::new(),
            failed_at_ms: AtomicU64::new(0),
        })
    }

    /// The calling thread's connection, made (lazily: it connects on first use) if it has none.
    fn conn(&self) -> Result<ConnectionManager, KvUnavailable> {
        let slot = self
            .conns
            .get(crate::http::cores::core())
            .or_else(|| self.conns.first())
            .ok_or_else(|| unavailable("no connection slot"))?;
        if let Some(c) = slot.get() {
            return Ok(c.clone());
        }
        let made =
            ConnectionManager::new_lazy_with_config(self.client.clone(), self.config.clone())
                .map_err(unavailable)?;
        Ok(slot.get_or_init(|| made).clone())
    }

    fn key(&self, key: &str) -> String {
        let mut k = String::with_capacity(self.prefix.len() + key.len());
        k.push_str(&self.prefix);
        k.push_str(key);
        k
    }

    /// Runs `f` on a handle of the connection, within the deadline; fails at once while Redis
    /// was found unreachable less than [`BACKOFF_MS`] ago.
    async fn run<T, F>(&self, f: impl FnOnce(ConnectionManager) -> F) -> Result<T, KvUnavailable>
    where
        F: Future<Output = redis::RedisResult<T>>,
    {
        let failed_at = self.failed_at_ms.load(Ordering::Relaxed);
        if failed_at != 0 && crate::time::now_ms().saturating_sub(failed_at) < BACKOFF_MS {
            return Err(KvUnavailable {
                reason: "unreachable a moment ago; reconnecting".into(),
            });
        }
        // Only a connection that failed starts the backoff: a slow answer (a loaded gateway or
        // Redis) fails its own call but says nothing of the next one.
        let conn = self.conn()?;
        let (result, down) = match tokio::time::timeout(self.timeout, f(conn)).await {
            Ok(Ok(v)) => (Ok(v), false),
            Ok(Err(e)) => {
                let down =
                    e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal();
                (Err(unavailable(e)), down)
            }
            Err(_) => (
                Err(KvUnavailable {
                    reason: format!("no answer within {} ms", self.timeout.as_millis()),
                }),
                false,
            ),
        };
        if down {
            self.failed_at_ms
                .store(crate::time::now_ms().max(1), Ordering::Relaxed);
        } else if result.is_ok() && failed_at != 0 {
            self.failed_at_ms.store(0, Ordering::Relaxed);
        }
        result
    }

    /// Connects and checks that Redis answers, waiting up to 2 s (at start: the first requests
    /// then find the connection made).
    pub async fn ping(&self) -> Result<(), KvUnavailable> {
        let mut c = self.conn()?;
        let ping = async move { redis::cmd("PING").query_async::<String>(&mut c).await };
        match tokio::time::timeout(Duration::from_secs(2), ping).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(unavailable(e)),
            Err(_) => Err(unavailable("no answer to PING within 2 s")),
        }
    }

    /// `kv.get`.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvUnavailable> {
        let k = self.key(key);
        self.run(|mut c| async move { self.scripts.get.key(k).invoke_async(&mut c).await })
            .await
    }

    /// `kv.set`.
    pub async fn set(
        &self,
        key: &str,
        value: Vec<u8>,
        ttl_ms: Option<u64>,
    ) -> Result<(), KvUnavailable> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(key)).arg(value);
        if let Some(ttl) = ttl_ms {
            // PX 0 is an error in Redis; a value that expires at once is simply gone.
            if ttl == 0 {
                return self.delete(key).await;
            }
            cmd.arg("PX").arg(ttl);
        }
        self.run(|mut c| async move { cmd.query_async::<()>(&mut c).await })
            .await
    }

    /// `kv.delete`.
    pub async fn delete(&self, key: &str) -> Result<(), KvUnavailable> {
        let k = self.key(key);
        self.run(|mut c| async move { redis::cmd("DEL").arg(k).query_async::<()>(&mut c).await })
            .await
    }

    /// `kv.add`: a total that lives until `expires_at_ms` (set when it is created).
    pub async fn add(
        &self,
        key: &str,
        delta: i64,
        expires_at_ms: u64,
    ) -> Result<i64, KvUnavailable> {
        let k = self.key(key);
        let expires = expires_at_ms.max(1);
        self.run(|mut c| async move {
            self.scripts
                .add
                .key(k)
                .arg(delta)
                .arg(expires)
                .invoke_async(&mut c)
                .await
        })
        .await
    }

    /// Adds `delta` to totals `first` and `second` (as [`RedisKv::add`]) if `first` is absent;
    /// true if it added.
    pub async fn add_pair_if_absent(
        &self,
        first: &str,
        second: &str,
        delta: i64,
        expires_at_ms: u64,
    ) -> Result<bool, KvUnavailable> {
        let (a, b) = (self.key(first), self.key(second));
        let expires = expires_at_ms.max(1);
        let added: i64 = self
            .run(|mut c| async move {
                self.scripts
                    .seed
                    .key(a)
                    .key(b)
                    .arg(delta)
                    .arg(expires)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(added == 1)
    }

    /// `kv.reserve`: all or nothing, in one script.
    pub async fn reserve(
        &self,
        items: &[Reservation],
        window_ms: u64,
    ) -> Result<Reserved, KvUnavailable> {
        let mut call = self.scripts.reserve.prepare_invoke();
        call.arg(window_ms.max(1));
        for r in items {
            call.key(self.key(&r.key)).arg(r.amount).arg(r.limit);
        }
        let out: Vec<i64> = self
            .run(|mut c| async move { call.invoke_async(&mut c).await })
            .await?;
        decode_reserved(&out, items.len())
    }

    /// `kv.incr-all` (and `kv.incr`, a list of one).
    pub async fn incr_all(
        &self,
        deltas: &[(String, i64)],
        window_ms: u64,
    ) -> Result<Vec<WindowCount>, KvUnavailable> {
        let mut call = self.scripts.incr_all.prepare_invoke();
        call.arg(window_ms.max(1));
        for (key, delta) in deltas {
            call.key(self.key(key)).arg(*delta);
        }
        let out: Vec<i64> = self
            .run(|mut c| async move { call.invoke_async(&mut c).await })
            .await?;
        let Some((&left, values)) = out.split_first() else {
            return Err(unavailable("incr-all: an empty answer"));
        };
        if values.len() != deltas.len() {
            return Err(unavailable("incr-all: an answer of the wrong length"));
        }
        Ok(values
            .iter()
            .map(|&value| WindowCount {
                value,
                ms_to_reset: left.max(0) as u64,
            })
            .collect())
    }
}

/// Reads the reserve script's answer.
fn decode_reserved(out: &[i64], n: usize) -> Result<Reserved, KvUnavailable> {
    match out {
        [1, left, values @ ..] if values.len() == n => Ok(Reserved::Granted(
            values
                .iter()
                .map(|&value| WindowCount {
                    value,
                    ms_to_reset: (*left).max(0) as u64,
                })
                .collect(),
        )),
        [0, index, reach, left] => Ok(Reserved::Refused {
            index: usize::try_from(*index).unwrap_or(0),
            would_reach: WindowCount {
                value: *reach,
                ms_to_reset: (*left).max(0) as u64,
            },
        }),
        _ => Err(unavailable("reserve: an answer of the wrong shape")),
    }
}
