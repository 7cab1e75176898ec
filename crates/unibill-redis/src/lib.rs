//! # unibill-redis
//!
//! One vendor account's rate limit and its per-customer write locks,
//! shared by every process of a deployment through Redis.
//!
//! A single unibill process paces itself with an in-process sliding window
//! and serialises the updates of one customer with an in-process lock.
//! Several processes (workers, machines) on the same vendor account each
//! do so for themselves only: together they send several times the limit
//! and can interleave two updates of one customer. A [`RedisCoordinator`]
//! gives them one budget and one lock per customer:
//!
//! - [`RedisLimiter`] implements core's [`RateLimiter`]: one atomic Lua
//!   script per request attempt paces the budget with GCRA (the generic
//!   cell rate algorithm): permits one emission interval apart, after a
//!   small burst (a hundredth of the limit, from 1 to 5) when the budget
//!   was idle, never more than the limit in any window. The call reserves
//!   the permit and answers how long to wait for it, so a waiting request
//!   asks Redis once. The time is Redis's (`TIME`), so the machines'
//!   clocks do not matter. The key, one small string per budget, is
//!   `{prefix}pace:{backend}:{account}` ([`Budget::key`]: never a
//!   credential). The limit is the client's configured one (the vendor's
//!   documented limit by default).
//! - [`RedisLock`] implements core's [`WriteLock`]: `SET key token NX PX
//!   lease` with a unique token, renewed every third of the lease while
//!   held, released by a compare-and-delete script (a holder never deletes
//!   another holder's lock) that also publishes a message on a channel
//!   named like the key. The update path releases it awaited
//!   ([`LockGuard::release`]) before `update` returns, so a process may
//!   end right after; dropping the guard releases it in the background, as
//!   a fallback. The updates of one process waiting for one customer queue
//!   in the process, and only the head of that queue asks Redis; it asks
//!   again when a release message arrives (one pub/sub connection per
//!   coordinator, `PSUBSCRIBE {prefix}lock:*`), and about every 0.5 s when
//!   none does (a dead holder's lease runs out silently). A holder that
//!   dies stops renewing, and its lock frees itself after the lease.
//!   Waiting is bounded: [`LockFailure::TimedOut`] after it, never an
//!   unlocked write. Before every write the backend checks the lease
//!   ([`Lease::check`]); once a renewal failed long enough for the lease to
//!   run out, or the lock was taken over, it reports [`LockFailure::Lost`]
//!   and nothing more is sent.
//!
//! ## When Redis is unreachable
//!
//! [`RedisSetting::fallback_share`] decides, explicitly:
//!
//! - unset (the default): fail closed. The request fails with a
//!   retryable [`Error::Limiter`] or [`Error::Lock`] with
//!   [`LockFailure::Unavailable`], and nothing is written unlocked or
//!   unlimited. Once Redis answers again the same clients carry on (each
//!   operation reconnects when the connection was lost).
//! - a share (opt-in): the process falls back to an in-process sliding
//!   window at that share of the limit (e.g. 0.25 for four workers) and to
//!   the in-process lock. Processes then no longer exclude each other on a
//!   customer: a deployment that needs that guarantee keeps the default.
//!   Once Redis failed, operations skip it for
//!   [`RedisSetting::fallback_probe`] (1 s) instead of each waiting for
//!   it first; then one operation asks again, and when Redis answers the
//!   process is back on the shared limiter and lock.
//!
//! ## Why `redis` (redis-rs)
//!
//! It is the maintained, widely used Rust driver (the `redis-rs`
//! organisation), async on tokio, with Lua script support (`EVALSHA`
//! falling back to `EVAL`) and TLS (`rediss://`) through rustls, the TLS
//! stack the HTTP side already uses. It is built with
//! `default-features = false` and only `tokio-comp`, `script` and
//! `tokio-rustls-comp`. `fred` does as much but brings a larger tree of
//! its own (pools, reconnection policies, metrics) that one multiplexed
//! connection per process does not need.
//!
//! ```no_run
//! # async fn run() -> unibill_core::Result<()> {
//! use unibill_redis::{RedisCoordinator, RedisSetting};
//!
//! // The same value a config file's `settings.redis` or the facade's
//! // UNIBILL_REDIS_URL / UNIBILL_REDIS_PREFIX variables give.
//! let mut setting = RedisSetting::new("redis://127.0.0.1:6379");
//! setting.prefix = Some("billing:".into());
//! let redis = RedisCoordinator::new(setting)?;
//! // Give the same coordinator to every client of every process:
//! // builder.rate_limiter(redis.rate_limiter()).write_locking(redis.write_locking())
//! # let _ = redis; Ok(()) }
//! ```
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Script};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use unibill_core::lock::{InProcessLock, Lease, LockFailure, LockGuard, LockKey, WriteLock};
use unibill_core::transport::{redacted_url, Budget, RateLimit, RateLimiter, SlidingWindow};
use unibill_core::{lock::WriteLocking, Error, Result};

/// Where and how to reach Redis: core's one description of it, which a
/// config file's `redis` settings also give.
pub use unibill_core::builder::RedisSetting;

/// The settings with their defaults filled in, checked once.
struct Resolved {
    url: String,
    prefix: String,
    fallback_share: Option<f64>,
    timeout: Duration,
    lease: Duration,
    fallback_probe: Duration,
}

impl Resolved {
    /// `setting`'s values, or their defaults; a bad one is
    /// [`Error::Config`] naming its key (never showing the URL, which may
    /// hold a password).
    fn new(setting: RedisSetting) -> Result<Self> {
        let url = setting.url.trim().to_owned();
        if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
            return Err(Error::config(
                "redis.url",
                "must start with redis:// or rediss:// (TLS)",
            ));
        }
        if let Some(share) = setting.fallback_share {
            if !(share > 0.0 && share <= 1.0) {
                return Err(Error::config(
                    "redis.fallback_share",
                    "must be in (0, 1]: the share of each limit one process may use alone",
                ));
            }
        }
        let timeout = setting.timeout.unwrap_or(Duration::from_secs(2));
        if timeout.is_zero() {
            return Err(Error::config("redis.timeout", "must be longer than zero"));
        }
        let lease = setting.lease.unwrap_or(Duration::from_secs(10));
        if lease < Duration::from_millis(100) {
            return Err(Error::config(
                "redis.lease",
                "must be at least 100 ms (it is renewed every third of it)",
            ));
        }
        Ok(Self {
            url,
            prefix: setting.prefix.unwrap_or_else(|| "unibill:".to_owned()),
            fallback_share: setting.fallback_share,
            timeout,
            lease,
            fallback_probe: setting.fallback_probe.unwrap_or(Duration::from_secs(1)),
        })
    }
}

/// The Lua script of the shared limiter: GCRA (the generic cell rate
/// algorithm) with reservations. One string per budget holds the
/// theoretical arrival time (TAT) of the next permit, in microseconds of
/// Redis's own clock. Each call reserves the next permit: it is due at
/// `max(TAT, now) - tolerance`, and TAT moves on by one emission interval.
/// Returns how many microseconds the caller waits before sending (0: at
/// once). Every call is a grant, so a waiting caller asks once, not again
/// and again.
const LIMIT_SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if tat < now then tat = now end
local wait = tat - tolerance - now
if wait < 0 then wait = 0 end
local next_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX',
  string.format('%d', math.floor((next_tat - now) / 1000) + 1000))
return wait
";

/// Extends the lease only while the token is still ours.
const RENEW_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
";

/// Deletes the lock only while the token is still ours, and then tells the
/// waiters of every process (a message on the channel named like the key).
const RELEASE_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', KEYS[1], '')
  return 1
end
return 0
";

/// How a budget's limit is paced: the emission interval and the GCRA
/// tolerance, in microseconds. A burst of `b` permits may go at once after
/// a quiet spell (`b` is a hundredth of the limit, from 1 to 5: none for
/// ChartMogul's 40/s, 5 for Fusebill's 1,000/min); after that permits are
/// one interval apart. The interval is `per ÷ (limit − b)` (`per` for a
/// limit of 1), so no window of length `per` holds more than `limit − 1`
/// permits at Redis's clock, burst included: the one permit left over is
/// room for the jitter between a permit and the request's arrival at the
/// vendor (an emission interval: 26 ms at ChartMogul's 40 per 1.02 s).
fn pacing(limit: RateLimit) -> (u64, u64) {
    let requests = u64::from(limit.requests.max(1));
    let burst = (requests / 100).clamp(1, 5);
    let per_us = u64::try_from(limit.per.as_micros())
        .unwrap_or(u64::MAX)
        .clamp(1, 1 << 50);
    let interval = per_us.div_ceil((requests - burst).max(1)).max(1);
    (interval, interval * (burst - 1))
}

/// The shared connection to Redis and the settings; build one per process
/// and hand its [`Self::rate_limiter`] and [`Self::write_locking`] to
/// every client. Clones share the connection.
#[derive(Clone)]
pub struct RedisCoordinator {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    settings: Resolved,
    /// The current connection and its number; `None` until the first
    /// operation and after a failure that may have broken it.
    conn: Mutex<Option<(u64, MultiplexedConnection)>>,
    /// Held while connecting, so a crowd of operations opens one
    /// connection, not one each.
    connecting: tokio::sync::Mutex<()>,
    connections: AtomicU64,
    limit_script: Script,
    renew_script: Script,
    release_script: Script,
    fallback_windows: Mutex<HashMap<String, Arc<SlidingWindow>>>,
    /// The updates of this process waiting for one customer queue here
    /// first (first come, first served): only the head of each queue asks
    /// Redis, so a crowd of waiters costs one `SET` per release, not one
    /// each.
    queue: InProcessLock,
    /// Waiters woken by the release messages of every process.
    wakers: Arc<Wakers>,
    /// The task listening for release messages, started by the first
    /// update that has to wait.
    listener: Mutex<Option<JoinHandle<()>>>,
    counter: AtomicU64,
    instance: u64,
    /// Fallback mode: until when Redis is known down and skipped.
    skip_until: Mutex<Option<Instant>>,
}

impl fmt::Debug for RedisCoordinator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisCoordinator")
            .field("url", &redacted_url(&self.inner.settings.url))
            .field("prefix", &self.inner.settings.prefix)
            .finish_non_exhaustive()
    }
}

/// A Redis failure as a short text without the URL or a password.
fn reason(e: &redis::RedisError) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connection_refusal() {
        "connection refused"
    } else if e.is_io_error() || e.is_connection_dropped() {
        "connection failed"
    } else {
        "command failed"
    };
    let detail: String = e
        .detail()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    if detail.is_empty() {
        format!("redis {kind}")
    } else {
        format!("redis {kind}: {detail}")
    }
}

impl RedisCoordinator {
    /// A coordinator for `settings`. Nothing is connected yet: the first
    /// operation connects, and any operation after a lost connection
    /// connects again. A bad value is [`Error::Config`] naming its key
    /// (`redis.url`, `redis.fallback_share`, `redis.timeout`,
    /// `redis.lease`), without showing the URL.
    ///
    /// ```
    /// use unibill_redis::{RedisCoordinator, RedisSetting};
    /// assert!(RedisCoordinator::new(RedisSetting::new("redis://:pw@127.0.0.1:6379")).is_ok());
    /// let e = RedisCoordinator::new(RedisSetting::new("http://:pw@127.0.0.1")).err().unwrap();
    /// assert!(e.to_string().contains("redis.url") && !e.to_string().contains("pw"));
    /// ```
    pub fn new(settings: RedisSetting) -> Result<Self> {
        let settings = Resolved::new(settings)?;
        let client = redis::Client::open(settings.url.as_str())
            .map_err(|_| Error::config("redis.url", "is not a valid redis:// or rediss:// URL"))?;
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                settings,
                conn: Mutex::new(None),
                connecting: tokio::sync::Mutex::new(()),
                connections: AtomicU64::new(0),
                limit_script: Script::new(LIMIT_SCRIPT),
                renew_script: Script::new(RENEW_SCRIPT),
                release_script: Script::new(RELEASE_SCRIPT),
                fallback_windows: Mutex::new(HashMap::new()),
                queue: InProcessLock::new(),
                wakers: Arc::default(),
                listener: Mutex::new(None),
                counter: AtomicU64::new(0),
                instance: fastrand::u64(..),
                skip_until: Mutex::new(None),
            }),
        })
    }

    /// The shared limiter.
    pub fn limiter(&self) -> RedisLimiter {
        RedisLimiter {
            coordinator: self.clone(),
        }
    }

    /// The shared write lock.
    pub fn lock(&self) -> RedisLock {
        RedisLock {
            coordinator: self.clone(),
        }
    }

    /// [`Self::limiter`] as a shared [`RateLimiter`], for a client
    /// builder's `rate_limiter`.
    pub fn rate_limiter(&self) -> Arc<dyn RateLimiter> {
        Arc::new(self.limiter())
    }

    /// [`WriteLocking::Shared`] over [`Self::lock`], for a client builder's
    /// `write_locking`.
    pub fn write_locking(&self) -> WriteLocking {
        WriteLocking::Shared(Arc::new(self.lock()))
    }

    /// Checks that Redis answers (`PING`).
    pub async fn ping(&self) -> std::result::Result<(), String> {
        let (id, mut conn) = self.connection().await?;
        let r: redis::RedisResult<String> = redis::cmd("PING").query_async(&mut conn).await;
        self.settle(id, r).map(|_| ())
    }

    fn key(&self, kind: &str, rest: &str) -> String {
        format!("{}{kind}:{rest}", self.inner.settings.prefix)
    }

    fn token(&self) -> String {
        format!(
            "{:016x}-{}-{:x}-{:016x}",
            self.inner.instance,
            std::process::id(),
            self.inner.counter.fetch_add(1, Ordering::Relaxed),
            fastrand::u64(..)
        )
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<(u64, MultiplexedConnection)>> {
        self.inner.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current connection and its number, connecting when there is
    /// none.
    async fn connection(&self) -> std::result::Result<(u64, MultiplexedConnection), String> {
        if let Some((id, conn)) = self.slot().as_ref() {
            return Ok((*id, conn.clone()));
        }
        let _connecting = self.inner.connecting.lock().await;
        // Another operation may have connected while this one waited.
        if let Some((id, conn)) = self.slot().as_ref() {
            return Ok((*id, conn.clone()));
        }
        let t = self.inner.settings.timeout;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(t))
            .set_response_timeout(Some(t));
        let conn = self
            .inner
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|e| reason(&e))?;
        let id = self.inner.connections.fetch_add(1, Ordering::Relaxed) + 1;
        *self.slot() = Some((id, conn.clone()));
        Ok((id, conn))
    }

    /// Forgets connection `id` after a failure that may have broken it, so
    /// the next operation connects again (a newer connection another
    /// operation made meanwhile is kept).
    fn settle<T>(&self, id: u64, r: redis::RedisResult<T>) -> std::result::Result<T, String> {
        r.map_err(|e| {
            if e.is_io_error()
                || e.is_timeout()
                || e.is_connection_dropped()
                || e.is_unrecoverable_error()
            {
                let mut slot = self.slot();
                if slot.as_ref().is_some_and(|(current, _)| *current == id) {
                    *slot = None;
                }
            }
            reason(&e)
        })
    }

    async fn invoke<T: redis::FromRedisValue>(
        &self,
        script: &Script,
        key: &str,
        args: &[String],
    ) -> std::result::Result<T, String> {
        let (id, mut conn) = self.connection().await?;
        let mut inv = script.key(key);
        for a in args {
            inv.arg(a);
        }
        let r = inv.invoke_async(&mut conn).await;
        self.settle(id, r)
    }

    fn fallback_share(&self) -> Option<f64> {
        self.inner.settings.fallback_share
    }

    /// Whether this operation asks Redis. Always when failing closed. With
    /// the local fallback, not while Redis is known down; once the pause
    /// is over, the first operation to ask probes (and pushes the pause on
    /// for the others, so one probe at a time waits on a silent Redis).
    fn ask_redis(&self) -> bool {
        if self.fallback_share().is_none() {
            return true;
        }
        let mut skip = self
            .inner
            .skip_until
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match *skip {
            None => true,
            Some(until) if Instant::now() < until => false,
            Some(_) => {
                *skip = Some(Instant::now() + self.inner.settings.fallback_probe);
                true
            }
        }
    }

    /// Redis answered: stop skipping it.
    fn redis_answered(&self) {
        let mut skip = self
            .inner
            .skip_until
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if skip.is_some() {
            tracing::info!("redis answers again: shared limiter and lock resumed");
            *skip = None;
        }
    }

    /// Redis failed (fallback mode): skip it for the probe pause.
    fn redis_failed(&self) {
        let mut skip = self
            .inner
            .skip_until
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        *skip = Some(Instant::now() + self.inner.settings.fallback_probe);
    }

    fn fallback_window(&self, budget: &Budget, share: f64) -> Arc<SlidingWindow> {
        let mut map = self
            .inner
            .fallback_windows
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let requests = ((f64::from(budget.limit.requests) * share).floor() as u32).max(1);
        Arc::clone(map.entry(budget.key()).or_insert_with(|| {
            Arc::new(SlidingWindow::new(RateLimit {
                requests,
                per: budget.limit.per,
            }))
        }))
    }
}

/// The shared rate limiter on Redis (see the [crate docs](crate)).
#[derive(Clone, Debug)]
pub struct RedisLimiter {
    coordinator: RedisCoordinator,
}

#[async_trait]
impl RateLimiter for RedisLimiter {
    async fn acquire(&self, budget: &Budget) -> Result<()> {
        let c = &self.coordinator;
        if let Some(share) = c.fallback_share().filter(|_| !c.ask_redis()) {
            return c.fallback_window(budget, share).acquire(budget).await;
        }
        let key = c.key("pace", &budget.key());
        let (interval, tolerance) = pacing(budget.limit);
        let args = [interval.to_string(), tolerance.to_string()];
        // One call reserves the permit; the wait happens here, without
        // asking Redis again. A caller dropped while waiting forfeits its
        // permit (the budget errs on the slow side).
        match c.invoke::<i64>(&c.inner.limit_script, &key, &args).await {
            Ok(wait_us) => {
                c.redis_answered();
                if wait_us > 0 {
                    tokio::time::sleep(Duration::from_micros(wait_us as u64)).await;
                }
                Ok(())
            }
            Err(why) => match c.fallback_share() {
                Some(share) => {
                    tracing::warn!(reason = %why, "redis unreachable: local rate limit fallback");
                    c.redis_failed();
                    c.fallback_window(budget, share).acquire(budget).await
                }
                None => Err(Error::Limiter {
                    backend: budget.backend,
                    reason: why,
                }),
            },
        }
    }
}

/// The shared per-customer write lock on Redis (see the
/// [crate docs](crate)).
#[derive(Clone, Debug)]
pub struct RedisLock {
    coordinator: RedisCoordinator,
}

/// How soon a waiting update asks for the lock again while release
/// messages are not heard yet (the listener is connecting): the first
/// pause; each next one doubles, up to [`SLOW_POLL`].
const POLL: Duration = Duration::from_millis(25);

/// How often a waiting update asks for the lock again when no release
/// message woke it: the fallback for a lease that ran out (its holder
/// died) and for a lost message.
const SLOW_POLL: Duration = Duration::from_millis(500);

/// The waiters of this process, by Redis lock key, woken when a release
/// message for that key arrives.
#[derive(Default)]
struct Wakers {
    waiting: Mutex<HashMap<String, Arc<tokio::sync::Notify>>>,
    /// Whether the listener is subscribed right now.
    listening: AtomicBool,
}

impl Wakers {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<tokio::sync::Notify>>> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn register(self: &Arc<Self>, key: &str) -> WakeSlot {
        let notify = Arc::clone(self.map().entry(key.to_owned()).or_default());
        WakeSlot {
            wakers: Arc::clone(self),
            key: key.to_owned(),
            notify,
        }
    }

    fn wake(&self, key: &str) {
        if let Some(notify) = self.map().get(key) {
            notify.notify_waiters();
        }
    }
}

/// A waiter's registration; removed when it is done (or cancelled).
struct WakeSlot {
    wakers: Arc<Wakers>,
    key: String,
    notify: Arc<tokio::sync::Notify>,
}

impl Drop for WakeSlot {
    fn drop(&mut self) {
        let mut map = self.wakers.map();
        // The map's reference and this one: nobody else waits.
        if Arc::strong_count(&self.notify) <= 2 {
            map.remove(&self.key);
        }
    }
}

/// A `PSUBSCRIBE` pattern matching exactly the keys that start with
/// `prefix` (its glob characters escaped).
fn pattern(prefix: &str) -> String {
    let mut p = String::with_capacity(prefix.len() + 8);
    for ch in prefix.chars() {
        if matches!(ch, '*' | '?' | '[' | ']' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push_str("lock:*");
    p
}

/// Listens for the release messages of every process (one pub/sub
/// connection per coordinator) and wakes the waiters of this one.
/// Reconnects after a pause when the connection is lost; meanwhile the
/// waiters poll.
async fn listen(client: redis::Client, pattern: String, wakers: Arc<Wakers>, timeout: Duration) {
    use futures_util::StreamExt;
    loop {
        if let Ok(Ok(mut pubsub)) = tokio::time::timeout(timeout, client.get_async_pubsub()).await {
            if let Ok(Ok(())) = tokio::time::timeout(timeout, pubsub.psubscribe(&pattern)).await {
                wakers.listening.store(true, Ordering::SeqCst);
                let mut messages = pubsub.on_message();
                while let Some(message) = messages.next().await {
                    wakers.wake(message.get_channel_name());
                }
                wakers.listening.store(false, Ordering::SeqCst);
            }
        }
        tokio::time::sleep(SLOW_POLL.mul_f64(1.0 + fastrand::f64())).await;
    }
}

impl RedisCoordinator {
    /// Starts the release listener unless it runs already (again when
    /// the runtime it ran on has shut down).
    fn listen(&self) {
        let mut listener = self
            .inner
            .listener
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if listener.as_ref().is_none_or(JoinHandle::is_finished) {
            self.inner.wakers.listening.store(false, Ordering::SeqCst);
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                *listener = Some(handle.spawn(listen(
                    self.inner.client.clone(),
                    pattern(&self.inner.settings.prefix),
                    Arc::clone(&self.inner.wakers),
                    self.inner.settings.timeout,
                )));
            }
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(listener) = self
            .listener
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            listener.abort();
        }
    }
}

#[async_trait]
impl WriteLock for RedisLock {
    async fn acquire(&self, key: &LockKey, wait: Duration) -> Result<LockGuard> {
        let c = &self.coordinator;
        let redis_key = c.key("lock", key.as_str());
        let lease = c.inner.settings.lease;
        let lease_ms = lease.as_millis().max(1) as u64;
        let token = c.token();
        let started = Instant::now();
        let deadline = started + wait;
        if c.fallback_share().is_some() && !c.ask_redis() {
            return InProcessLock::global().acquire(key, wait).await;
        }
        // The updates of this process queue up here; only the head asks
        // Redis, and keeps its place until it released the Redis lock.
        let turn = c.inner.queue.acquire(key, wait).await?;
        let slot = c.inner.wakers.register(&redis_key);
        let mut pause = POLL;
        loop {
            // Listening before asking: a release between the answer and
            // the wait below still wakes this waiter.
            let woken = slot.notify.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let sent = Instant::now();
            let got = match c.connection().await {
                Ok((id, mut conn)) => {
                    let r: redis::RedisResult<Option<String>> = redis::cmd("SET")
                        .arg(&redis_key)
                        .arg(&token)
                        .arg("NX")
                        .arg("PX")
                        .arg(lease_ms)
                        .query_async(&mut conn)
                        .await;
                    c.settle(id, r).map(|v| v.is_some())
                }
                Err(e) => Err(e),
            };
            if got.is_ok() {
                c.redis_answered();
            }
            match got {
                Ok(true) => {
                    let lease = RedisLease::start(c.clone(), redis_key, token, sent + lease, turn);
                    return Ok(LockGuard::new(key.clone(), Box::new(lease)));
                }
                Ok(false) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return Err(key.error(LockFailure::TimedOut(wait)));
                    }
                    c.listen();
                    // Woken by the holder's release message; asking again
                    // after a pause only when none comes (a dead holder's
                    // lease runs out silently).
                    let nap = if c.inner.wakers.listening.load(Ordering::SeqCst) {
                        SLOW_POLL.mul_f64(0.75 + 0.5 * fastrand::f64())
                    } else {
                        let nap = pause.mul_f64(0.5 + fastrand::f64());
                        pause = (pause * 2).min(SLOW_POLL);
                        nap
                    };
                    let _ = tokio::time::timeout(nap.min(deadline - now), woken).await;
                }
                Err(why) => {
                    drop(turn);
                    if c.fallback_share().is_some() {
                        tracing::warn!(reason = %why, "redis unreachable: in-process lock fallback");
                        c.redis_failed();
                        let left = deadline.saturating_duration_since(Instant::now());
                        return InProcessLock::global()
                            .acquire(key, left.max(Duration::from_millis(1)))
                            .await;
                    }
                    return Err(key.error(LockFailure::Unavailable(why)));
                }
            }
        }
    }
}

/// A held lease: renewed in the background; released by
/// [`Lease::release`] (awaited), or on drop in the background.
struct RedisLease {
    state: Arc<LeaseState>,
    renew: JoinHandle<()>,
    release: Option<(RedisCoordinator, String, String)>,
    /// This process's place at the head of the customer's queue, given up
    /// after the Redis lock.
    turn: Option<LockGuard>,
}

struct LeaseState {
    /// Until when the lease is surely ours, as a tokio instant (measured
    /// from before the command that set or renewed it was sent).
    valid_until: Mutex<Instant>,
    lost: AtomicBool,
}

impl RedisLease {
    fn start(
        c: RedisCoordinator,
        key: String,
        token: String,
        valid_until: Instant,
        turn: LockGuard,
    ) -> Self {
        let state = Arc::new(LeaseState {
            valid_until: Mutex::new(valid_until),
            lost: AtomicBool::new(false),
        });
        let lease = c.inner.settings.lease;
        let renew = tokio::spawn(renew_loop(
            c.clone(),
            key.clone(),
            token.clone(),
            lease,
            Arc::clone(&state),
        ));
        Self {
            state,
            renew,
            release: Some((c, key, token)),
            turn: Some(turn),
        }
    }
}

async fn renew_loop(
    c: RedisCoordinator,
    key: String,
    token: String,
    lease: Duration,
    state: Arc<LeaseState>,
) {
    let args = [token, lease.as_millis().max(1).to_string()];
    loop {
        tokio::time::sleep(lease / 3).await;
        let sent = Instant::now();
        match c.invoke::<i64>(&c.inner.renew_script, &key, &args).await {
            Ok(1) => {
                *state.valid_until.lock().unwrap_or_else(|p| p.into_inner()) = sent + lease;
            }
            Ok(_) => {
                // The key expired or another holder has it: gone for good.
                state.lost.store(true, Ordering::SeqCst);
                return;
            }
            Err(why) => {
                // Keep trying while the lease lasts; `check` reports it
                // lost once it has run out.
                tracing::warn!(reason = %why, "redis lock renewal failed");
            }
        }
    }
}

#[async_trait]
impl Lease for RedisLease {
    /// Stops renewing, deletes the key if it is still ours and tells the
    /// waiters of every process; returns once Redis answered (or failed
    /// to: the lease then runs out on its own). Then the next update of
    /// this process may ask.
    async fn release(mut self: Box<Self>) {
        self.renew.abort();
        if let Some((c, key, token)) = self.release.take() {
            if let Err(why) = c
                .invoke::<i64>(&c.inner.release_script, &key, &[token])
                .await
            {
                tracing::warn!(reason = %why, "redis lock release failed: the lease runs out on its own");
            }
        }
        if let Some(turn) = self.turn.take() {
            turn.release().await;
        }
    }

    fn check(&self) -> std::result::Result<(), LockFailure> {
        let until = *self
            .state
            .valid_until
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if self.state.lost.load(Ordering::SeqCst) || Instant::now() >= until {
            Err(LockFailure::Lost)
        } else {
            Ok(())
        }
    }
}

impl Drop for RedisLease {
    fn drop(&mut self) {
        self.renew.abort();
        if let Some((c, key, token)) = self.release.take() {
            // Not released through `Lease::release` (a cancelled task):
            // compare-and-delete in the background; if it cannot run (no
            // runtime, Redis away, the process ends first) the lease
            // expires on its own.
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                handle.spawn(async move {
                    let _ = c
                        .invoke::<i64>(&c.inner.release_script, &key, &[token])
                        .await;
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The permits GCRA grants to `n` requests that all arrive at once,
    /// as the script reserves them: at `max(TAT, now) − tolerance`.
    fn grants(limit: RateLimit, n: u64) -> Vec<u64> {
        let (interval, tolerance) = pacing(limit);
        let mut tat = 0u64;
        (0..n)
            .map(|_| {
                let at = tat.saturating_sub(tolerance);
                tat += interval;
                at
            })
            .collect()
    }

    #[test]
    fn no_window_holds_more_than_the_limit_less_one_and_the_burst_is_small() {
        for (requests, per_ms, burst, loss) in [
            (40, 1020, 1, 0.026),
            (1000, 60_000, 5, 0.006),
            (50, 60_000, 1, 0.021),
            (400, 3_600_000, 4, 0.011),
            (7, 100, 1, 0.17),
            (1, 1000, 1, 0.0),
        ] {
            let limit = RateLimit {
                requests,
                per: Duration::from_millis(per_ms),
            };
            let per_us = per_ms * 1000;
            let at = grants(limit, u64::from(requests) * 4);
            // Any window [t, t + per) starting at a grant: one permit
            // short of the limit (room for jitter), at least one.
            let most = (requests as usize - 1).max(1);
            for (i, start) in at.iter().enumerate() {
                let inside = at[i..].iter().take_while(|g| **g < start + per_us).count();
                assert!(inside <= most, "{limit:?}: {inside} in one window");
            }
            assert_eq!(at.iter().filter(|g| **g == 0).count(), burst, "{limit:?}");
            // The steady rate's shortfall against the limit.
            let (interval, _) = pacing(limit);
            let rate = per_us as f64 / interval as f64;
            assert!(
                rate >= f64::from(requests) * (1.0 - loss),
                "{limit:?}: {rate}"
            );
        }
    }
}
