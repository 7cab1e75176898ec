//! The shared limiter and lock against a real Redis, read from
//! `UNIBILL_REDIS_URL` (`.ci/run` starts one). Without it the tests print
//! SKIPPED and pass, except under `CI=true`, where they fail.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use unibill_core::lock::{AccountId, LockFailure, LockKey, WriteLock};
use unibill_core::transport::{Budget, RateLimit, RateLimiter};
use unibill_core::{BackendKind, Error, ErrorKind};
use unibill_redis::{RedisCoordinator, RedisSetting};

fn redis_url(test: &str) -> Option<String> {
    match std::env::var("UNIBILL_REDIS_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "UNIBILL_REDIS_URL is required under CI=true"
            );
            println!("SKIPPED {test}: UNIBILL_REDIS_URL is not set");
            None
        }
    }
}

/// Settings with a prefix of their own, so tests never share keys.
fn settings(url: &str, lease: Duration) -> RedisSetting {
    let mut s = RedisSetting::new(url);
    s.prefix = Some(format!("unibill-test:{:016x}:", fastrand::u64(..)));
    s.lease = Some(lease);
    s
}

fn coordinator(s: &RedisSetting) -> RedisCoordinator {
    RedisCoordinator::new(s.clone()).unwrap()
}

fn key(customer: &str) -> LockKey {
    LockKey::new(
        BackendKind::new("fusebill"),
        &AccountId::of("http://127.0.0.1:1", b"key"),
        &customer.into(),
    )
}

async fn raw(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_excludes_across_separately_built_clients() {
    let Some(url) = redis_url("lock_excludes_across_separately_built_clients") else {
        return;
    };
    let s = settings(&url, Duration::from_secs(5));
    // Two coordinators: two connections, as two processes would have.
    let (a, b) = (coordinator(&s).lock(), coordinator(&s).lock());
    let held = a.acquire(&key("7"), Duration::from_secs(1)).await.unwrap();
    let err = b
        .acquire(&key("7"), Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Lock {
                reason: LockFailure::TimedOut(_),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_retryable());
    // Another customer is not blocked.
    let other = b.acquire(&key("8"), Duration::from_millis(200)).await;
    assert!(other.is_ok());
    drop(held);
    let got = b.acquire(&key("7"), Duration::from_secs(5)).await.unwrap();
    got.ensure_held().unwrap();

    // Read-modify-write under the lock from both clients: no lost edit.
    let value = Arc::new(AtomicU64::new(0));
    drop(got);
    let mut tasks = Vec::new();
    for i in 0..40 {
        let lock = if i % 2 == 0 { a.clone() } else { b.clone() };
        let value = Arc::clone(&value);
        tasks.push(tokio::spawn(async move {
            let g = lock
                .acquire(&key("9"), Duration::from_secs(30))
                .await
                .unwrap();
            let read = value.load(Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(2)).await;
            g.ensure_held().unwrap();
            value.store(read + 1, Ordering::SeqCst);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(value.load(Ordering::SeqCst), 40, "an edit was lost");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_holders_lock_frees_after_its_lease() {
    let Some(url) = redis_url("a_dead_holders_lock_frees_after_its_lease") else {
        return;
    };
    let s = settings(&url, Duration::from_millis(600));
    // The holder runs on a runtime of its own; shutting that runtime down
    // with the guard forgotten stops the renewal and never releases: the
    // process died.
    let s2 = s.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let g = coordinator(&s2)
                .lock()
                .acquire(&key("dead"), Duration::from_secs(1))
                .await
                .unwrap();
            std::mem::forget(g);
        });
        rt.shutdown_background();
    })
    .join()
    .unwrap();
    let mut conn = raw(&url).await;
    let redis_key = format!(
        "{}lock:{}",
        s.prefix.as_deref().unwrap(),
        key("dead").as_str()
    );
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&redis_key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(
        ttl > 0 && ttl <= 600,
        "the dead holder's lock has a lease: {ttl}"
    );
    let other = coordinator(&s).lock();
    let got = other
        .acquire(&key("dead"), Duration::from_secs(10))
        .await
        .unwrap();
    got.ensure_held().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_never_deletes_another_holders_lock_and_the_loser_sees_lost() {
    let Some(url) = redis_url("release_never_deletes_another_holders_lock") else {
        return;
    };
    let s = settings(&url, Duration::from_millis(600));
    let a = coordinator(&s).lock();
    let b = coordinator(&s).lock();
    let held_a = a.acquire(&key("x"), Duration::from_secs(1)).await.unwrap();
    let redis_key = format!("{}lock:{}", s.prefix.as_deref().unwrap(), key("x").as_str());
    let mut conn = raw(&url).await;
    // A's lease vanishes (as after a long pause past its expiry) and B
    // takes the lock.
    let _: i64 = redis::cmd("DEL")
        .arg(&redis_key)
        .query_async(&mut conn)
        .await
        .unwrap();
    let held_b = b.acquire(&key("x"), Duration::from_secs(1)).await.unwrap();
    let b_token: String = redis::cmd("GET")
        .arg(&redis_key)
        .query_async(&mut conn)
        .await
        .unwrap();
    // A's next renewal finds another token: A's lease is lost.
    let mut waited = 0;
    while held_a.ensure_held().is_ok() {
        assert!(waited < 200, "A never noticed it lost the lock");
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
    }
    let err = held_a.ensure_held().unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Lock {
                reason: LockFailure::Lost,
                ..
            }
        ),
        "{err:?}"
    );
    // A releases: compare-and-delete leaves B's lock alone.
    drop(held_a);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let now: Option<String> = redis::cmd("GET")
        .arg(&redis_key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(now.as_deref(), Some(b_token.as_str()));
    held_b.ensure_held().unwrap();
    drop(held_b);
    // B's release does delete its own lock.
    let mut waited = 0;
    loop {
        let exists: i64 = redis::cmd("EXISTS")
            .arg(&redis_key)
            .query_async(&mut conn)
            .await
            .unwrap();
        if exists == 0 {
            break;
        }
        assert!(waited < 100, "B's lock was not released");
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += 1;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_awaited_release_frees_the_key_before_it_returns() {
    let Some(url) = redis_url("an_awaited_release_frees_the_key_before_it_returns") else {
        return;
    };
    let s = settings(&url, Duration::from_secs(10));
    let c = coordinator(&s);
    let redis_key = format!("{}lock:{}", s.prefix.as_deref().unwrap(), key("r").as_str());
    let mut conn = raw(&url).await;
    for _ in 0..3 {
        let held = c
            .lock()
            .acquire(&key("r"), Duration::from_secs(1))
            .await
            .unwrap();
        let exists: i64 = redis::cmd("EXISTS")
            .arg(&redis_key)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(exists, 1);
        held.release().await;
        // Gone as soon as `release` returned, not a lease later.
        let exists: i64 = redis::cmd("EXISTS")
            .arg(&redis_key)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(exists, 0, "the key outlived the awaited release");
    }
}

fn budget(requests: u32, per: Duration) -> Budget {
    Budget {
        backend: BackendKind::new("chartmogul"),
        account: AccountId::of(
            "http://127.0.0.1:1",
            format!("{}", fastrand::u64(..)).as_bytes(),
        ),
        limit: RateLimit { requests, per },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_limiter_paces_permits_instead_of_granting_a_window_at_once() {
    let Some(url) = redis_url("the_limiter_paces_permits_instead_of_granting_a_window_at_once")
    else {
        return;
    };
    let s = settings(&url, Duration::from_secs(5));
    // 400 per hour: a burst of 4 (a hundredth), then one permit every
    // 3600 s / 396 = 9.1 s. Within 1.5 s exactly the burst is granted,
    // across clients; a window-sized limiter would grant all 60 asked.
    let b = budget(400, Duration::from_secs(3600));
    let granted = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for client in 0..4 {
        let limiter = coordinator(&s).limiter();
        for _ in 0..15 {
            let (limiter, b, granted) = (limiter.clone(), b.clone(), Arc::clone(&granted));
            tasks.push(tokio::spawn(async move {
                let r =
                    tokio::time::timeout(Duration::from_millis(1500), limiter.acquire(&b)).await;
                if let Ok(r) = r {
                    r.unwrap();
                    granted.fetch_add(1, Ordering::SeqCst);
                }
                client
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        granted.load(Ordering::SeqCst),
        4,
        "4 clients x 15 asked at 400/hour: the burst of 4 goes at once, the rest is paced"
    );
    // One small key per budget, expiring on its own; the key names the
    // vendor and the account hash, never a credential.
    let mut conn = raw(&url).await;
    let ttl: i64 = redis::cmd("PTTL")
        .arg(format!("{}pace:{}", s.prefix.as_deref().unwrap(), b.key()))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(ttl > 0, "{ttl}");
    assert!(b.key().starts_with("chartmogul:"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_limiter_lets_waiting_requests_through_as_the_window_slides() {
    let Some(url) = redis_url("the_limiter_lets_waiting_requests_through") else {
        return;
    };
    let s = settings(&url, Duration::from_secs(5));
    let per = Duration::from_millis(300);
    let b = budget(5, per);
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let limiter = coordinator(&s).limiter();
        for _ in 0..5 {
            let (limiter, b) = (limiter.clone(), b.clone());
            tasks.push(tokio::spawn(async move { limiter.acquire(&b).await }));
        }
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    // 15 grants at 5 per 300 ms cannot all have come within two windows.
    assert!(started.elapsed() >= per * 2, "{:?}", started.elapsed());
}

/// `fallback_share`: `None` fails closed.
fn unreachable_settings(fallback_share: Option<f64>) -> RedisSetting {
    // Port 1 on loopback: nothing listens, the connection is refused.
    let mut s = RedisSetting::new("redis://:pw-never-shown@127.0.0.1:1");
    s.fallback_share = fallback_share;
    s.timeout = Some(Duration::from_millis(500));
    s
}

#[tokio::test]
async fn unreachable_redis_fails_closed_with_typed_retryable_errors() {
    let c = RedisCoordinator::new(unreachable_settings(None)).unwrap();
    let err = c
        .lock()
        .acquire(&key("1"), Duration::from_secs(1))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Lock {
                reason: LockFailure::Unavailable(_),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_retryable());
    let err = c
        .limiter()
        .acquire(&budget(10, Duration::from_secs(1)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Limiter);
    assert!(err.is_retryable());
    for text in [format!("{err}"), format!("{err:?}"), format!("{c:?}")] {
        assert!(!text.contains("pw-never-shown"), "{text}");
    }
}

#[tokio::test]
async fn local_fallback_uses_the_in_process_lock_and_its_share_of_the_limit() {
    let c = RedisCoordinator::new(unreachable_settings(Some(0.5))).unwrap();
    let lock = c.lock();
    let held = lock
        .acquire(&key("f"), Duration::from_secs(1))
        .await
        .unwrap();
    held.ensure_held().unwrap();
    // The in-process lock still excludes within the process.
    let err = lock
        .acquire(&key("f"), Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Lock {
                reason: LockFailure::TimedOut(_),
                ..
            }
        ),
        "{err:?}"
    );
    drop(held);
    // 4 per minute at a share of 0.5: two go through, the third waits for
    // the window (a minute), so it does not finish in a second.
    let limiter = c.limiter();
    let b = budget(4, Duration::from_secs(60));
    limiter.acquire(&b).await.unwrap();
    limiter.acquire(&b).await.unwrap();
    let third = tokio::time::timeout(Duration::from_secs(1), limiter.acquire(&b)).await;
    assert!(
        third.is_err(),
        "a third request went through: not limited to the share"
    );
}

#[test]
fn settings_refuse_other_schemes_and_bad_shares() {
    let e = RedisCoordinator::new(RedisSetting::new("http://:pw@127.0.0.1:6379"))
        .err()
        .unwrap();
    assert!(format!("{e}").contains("redis.url"), "{e}");
    assert!(!format!("{e} {e:?}").contains("pw"), "{e:?}");
    let mut s = unreachable_settings(Some(1.5));
    let e = RedisCoordinator::new(s.clone()).err().unwrap();
    assert!(format!("{e}").contains("fallback_share"), "{e}");
    s.fallback_share = Some(0.25);
    assert!(RedisCoordinator::new(s.clone()).is_ok());
    s.lease = Some(Duration::from_millis(99));
    let e = RedisCoordinator::new(s.clone()).err().unwrap();
    assert!(format!("{e}").contains("redis.lease"), "{e}");
    s.lease = None;
    s.timeout = Some(Duration::ZERO);
    let e = RedisCoordinator::new(s).err().unwrap();
    assert!(format!("{e}").contains("redis.timeout"), "{e}");
    assert!(RedisCoordinator::new(RedisSetting::new("rediss://:x@cache.example:6380/1")).is_ok());
}

/// A `redis-server` of the test's own on `port`, stopped on drop.
struct OwnRedis(std::process::Child);

impl OwnRedis {
    fn start(port: u16) -> Option<OwnRedis> {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .ok()?;
        Some(OwnRedis(child))
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn until_up(c: &RedisCoordinator) {
    for _ in 0..100 {
        if c.ping().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("redis-server did not come up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_redis_fails_closed_and_the_same_coordinator_carries_on_after_restart() {
    // Needs the `redis-server` binary (CI installs it) to kill and restart.
    if redis_url("killed_redis_fails_closed_and_the_same_coordinator_carries_on").is_none() {
        return;
    }
    let port = 20_000 + (fastrand::u16(..) % 20_000);
    let Some(server) = OwnRedis::start(port) else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "redis-server missing under CI"
        );
        println!("SKIPPED: no redis-server binary");
        return;
    };
    let mut s = settings(
        &format!("redis://127.0.0.1:{port}"),
        Duration::from_millis(900),
    );
    s.timeout = Some(Duration::from_millis(500));
    let c = coordinator(&s);
    until_up(&c).await;
    let (lock, limiter) = (c.lock(), c.limiter());
    let b = budget(1000, Duration::from_secs(1));
    limiter.acquire(&b).await.unwrap();
    let held = lock
        .acquire(&key("k"), Duration::from_secs(1))
        .await
        .unwrap();
    held.ensure_held().unwrap();

    drop(server); // killed mid-run
    let err = limiter.acquire(&b).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Limiter, "{err:?}");
    let err = lock
        .acquire(&key("other"), Duration::from_secs(1))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Lock {
                reason: LockFailure::Unavailable(_),
                ..
            }
        ),
        "{err:?}"
    );
    // The held lease cannot be renewed: once it has run out, the holder
    // is told before its next write.
    let mut waited = 0;
    while held.ensure_held().is_ok() {
        assert!(waited < 100, "a lease that cannot be renewed never ran out");
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
    }
    drop(held);

    let _server = OwnRedis::start(port).expect("restart");
    until_up(&c).await;
    limiter.acquire(&b).await.unwrap();
    let again = lock
        .acquire(&key("k"), Duration::from_secs(5))
        .await
        .unwrap();
    again.ensure_held().unwrap();
}

/// A listener that accepts connections and never answers (a Redis that
/// hangs): each connection attempt is counted.
async fn silent_redis() -> (String, Arc<AtomicU64>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicU64::new(0));
    let count = Arc::clone(&accepted);
    tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            open.push(socket);
        }
    });
    (format!("redis://127.0.0.1:{port}"), accepted)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_fallback_skips_a_known_down_redis_until_its_probe_pause_is_over() {
    let (url, accepted) = silent_redis().await;
    let mut s = RedisSetting::new(url);
    s.fallback_share = Some(1.0);
    s.timeout = Some(Duration::from_millis(200));
    s.fallback_probe = Some(Duration::from_secs(3600));
    let c = RedisCoordinator::new(s.clone()).unwrap();
    let (lock, limiter) = (c.lock(), c.limiter());
    let b = budget(1000, Duration::from_secs(1));
    // The first operation waits for Redis (its timeout), then falls back;
    // the next 40 go straight to the fallback without a connection.
    limiter.acquire(&b).await.unwrap();
    for i in 0..20 {
        limiter.acquire(&b).await.unwrap();
        let held = lock
            .acquire(&key(&format!("b{i}")), Duration::from_secs(1))
            .await
            .unwrap();
        held.ensure_held().unwrap();
    }
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "operations asked a Redis known to be down"
    );

    // Once the pause is over, one operation asks Redis again.
    s.fallback_probe = Some(Duration::from_millis(100));
    let c = RedisCoordinator::new(s).unwrap();
    let (lock, limiter) = (c.lock(), c.limiter());
    limiter.acquire(&b).await.unwrap();
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
    lock.acquire(&key("p"), Duration::from_secs(1))
        .await
        .unwrap()
        .ensure_held()
        .unwrap();
    assert_eq!(accepted.load(Ordering::SeqCst), 2, "asked within the pause");
    tokio::time::sleep(Duration::from_millis(150)).await;
    lock.acquire(&key("p"), Duration::from_secs(1))
        .await
        .unwrap()
        .ensure_held()
        .unwrap();
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        3,
        "no probe after the pause"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_closed_asks_redis_every_time() {
    let (url, accepted) = silent_redis().await;
    let mut s = RedisSetting::new(url);
    s.timeout = Some(Duration::from_millis(100));
    let c = RedisCoordinator::new(s).unwrap();
    let b = budget(1000, Duration::from_secs(1));
    for n in 1..=3 {
        let err = c.limiter().acquire(&b).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Limiter);
        assert_eq!(accepted.load(Ordering::SeqCst), n);
    }
}
