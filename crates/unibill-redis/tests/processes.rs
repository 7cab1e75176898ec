//! Four OS processes sharing one Redis, asserted against the sandbox
//! journal: zero lost edits through the shared lock, and Redis killed in
//! the middle of a bulk run, failing closed and with the local fallback.
//!
//! The test starts its own `redis-server` (from `PATH`) on a free loopback
//! port, so it can kill and restart it; without the binary it prints
//! SKIPPED and passes, except under `CI=true`, where it fails. It starts a
//! sandbox (the Fusebill emulator) in this process, then runs this same
//! binary four times as a worker (`UNIBILL_REDIS_TEST_WORKER=n`). A worker
//! builds a Fusebill client whose limiter and lock are a
//! [`RedisCoordinator`]'s, and reports every finished update as one line
//! on its standard output. The test moves the workers from phase to phase
//! through their standard input (`go`, then a phase number, acknowledged
//! with `ack N`; end of input stops the run):
//!
//! | phase | meaning |
//! |---|---|
//! | 0 | Redis up |
//! | 1 | Redis about to be killed (acknowledged before the kill) |
//! | 2 | Redis killed (sent after the kill) |
//! | 3 | Redis about to restart (acknowledged before the restart) |
//! | 4 | Redis restarted (sent once it answers again) |
//!
//! Each update line carries the phase when the update was generated and
//! the phase when it finished: one generated and finished in phase 0 ran
//! entirely while Redis was up; one generated and finished in phase 2
//! ran entirely while it was down.
//!
//! Customer edits are detectable one by one: worker `n` only ever sets
//! field `n` of the four below, each time to a value of its own
//! (`w{n}-{i}`). Fusebill's `PUT` replaces the whole record with what the
//! client read and merged, so a `PUT` made without the lock while another
//! process's edit landed carries back the older value of that other field.
//! Walking the applied `PUT`s of a customer in journal (arrival) order,
//! each must change exactly one field, the one its writer owns; the final
//! record must hold each worker's last successful value.
//!
//! Run: `cargo test -p unibill-redis --test processes` (add a name to run
//! one scenario).

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use unibill_core::lock::LockFailure;
use unibill_core::transport::RateLimit;
use unibill_core::BackendBuilder;
use unibill_core::Settings;
use unibill_core::{CustomerId, CustomerPatch, CustomerUpdater, Error};
use unibill_fusebill::Fusebill;
use unibill_redis::{RedisCoordinator, RedisSetting};
use unibill_sandbox::{JournalEntry, Sandbox, VendorHandle};

const WORKERS: usize = 4;
/// The field worker `n` owns, as the Fusebill record names it.
const FIELDS: [&str; WORKERS] = ["firstName", "lastName", "companyName", "primaryPhone"];
/// A guard against a hung run, not a measurement.
const HANG: Duration = Duration::from_secs(120);

const WORKER_VAR: &str = "UNIBILL_REDIS_TEST_WORKER";

type Scenario = fn(&str) -> ();

fn main() {
    if let Ok(n) = std::env::var(WORKER_VAR) {
        worker::run(n.parse().expect("worker number"));
        return;
    }
    let scenarios: [(&str, Scenario); 5] = [
        (
            "four_processes_times_fifty_concurrent_updates_of_one_customer_lose_no_edit",
            zero_lost_edits,
        ),
        (
            "redis_killed_mid_run_fails_closed_and_the_same_processes_carry_on",
            fail_closed,
        ),
        (
            "redis_killed_mid_run_with_local_fallback_completes_within_each_share",
            local_fallback,
        ),
        (
            "ten_short_lived_processes_one_after_another_each_find_the_lock_free",
            short_lived_processes,
        ),
        (
            "eight_processes_times_25_contending_updates_cost_few_redis_commands_each",
            contended_commands,
        ),
    ];
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        for (name, _) in &scenarios {
            println!("{name}: test");
        }
        return;
    }
    if args.iter().any(|a| a == "--ignored") {
        // None of these is ignored.
        return;
    }
    let exact = args.iter().any(|a| a == "--exact");
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let chosen: Vec<_> = scenarios
        .iter()
        .filter(|(name, _)| {
            filters.is_empty()
                || filters.iter().any(|f| {
                    if exact {
                        name == f
                    } else {
                        name.contains(f.as_str())
                    }
                })
        })
        .collect();
    if chosen.is_empty() {
        return;
    }
    let Some(server) = redis_server() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "redis-server is required on PATH under CI=true"
        );
        for (name, _) in &chosen {
            println!("SKIPPED {name}: no redis-server on PATH");
        }
        return;
    };
    let started = Instant::now();
    for (name, scenario) in &chosen {
        println!("test {name} ...");
        let one = Instant::now();
        scenario(&server);
        println!("test {name} ... ok ({:.1} s)", one.elapsed().as_secs_f64());
    }
    println!(
        "test result: ok. {} passed; finished in {:.2}s",
        chosen.len(),
        started.elapsed().as_secs_f64()
    );
}

/// The `redis-server` binary, when it runs.
fn redis_server() -> Option<String> {
    let bin = "redis-server".to_owned();
    let ok = Command::new(&bin)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(bin)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

// ---------------------------------------------------------------------------
// The driver's side: a Redis of its own, the workers, the journal.
// ---------------------------------------------------------------------------

/// A `redis-server` of the test's own; killed (SIGKILL) on drop.
struct OwnRedis {
    child: Child,
    port: u16,
}

impl OwnRedis {
    fn start(bin: &str, port: u16) -> OwnRedis {
        let child = Command::new(bin)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(std::env::temp_dir())
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        OwnRedis { child, port }
    }

    /// On a port that was free a moment ago.
    fn start_free(bin: &str) -> OwnRedis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        OwnRedis::start(bin, port)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server the way a crash would, and waits for it to be gone.
    fn kill(mut self) -> u16 {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.port
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn until_up(url: &str) {
    let c = RedisCoordinator::new(RedisSetting::new(url)).unwrap();
    let started = Instant::now();
    while c.ping().await.is_err() {
        assert!(started.elapsed() < HANG, "redis-server did not come up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What every worker of a scenario gets.
struct Plan<'a> {
    mode: &'a str,
    redis_url: String,
    fusebill: String,
    /// The customers of each worker, by worker.
    customers: Vec<Vec<String>>,
}

/// One finished update, as a worker reported it.
#[derive(Clone, Debug)]
struct Item {
    worker: usize,
    generated: u8,
    finished: u8,
    customer: String,
    value: String,
    /// `ok`, or the failure's name (see `worker::failure`).
    outcome: String,
    retryable: bool,
}

impl Item {
    fn ok(&self) -> bool {
        self.outcome == "ok"
    }
}

/// The running workers; killed on drop (a failed assertion).
struct Workers {
    children: Vec<Child>,
    stdins: Vec<Option<ChildStdin>>,
    lines: Vec<Arc<Mutex<Vec<String>>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl Workers {
    fn spawn(plan: &Plan<'_>) -> Workers {
        let exe = std::env::current_exe().expect("own path");
        let prefix = format!("unibill-test:{:016x}:", fastrand::u64(..));
        let mut w = Workers {
            children: Vec::new(),
            stdins: Vec::new(),
            lines: Vec::new(),
            readers: Vec::new(),
        };
        for n in 0..plan.customers.len() {
            let mut child = Command::new(&exe)
                .env(WORKER_VAR, n.to_string())
                .env("UNIBILL_REDIS_TEST_MODE", plan.mode)
                .env("UNIBILL_REDIS_TEST_URL", &plan.redis_url)
                .env("UNIBILL_REDIS_TEST_PREFIX", &prefix)
                .env("UNIBILL_REDIS_TEST_FUSEBILL", &plan.fusebill)
                .env("UNIBILL_REDIS_TEST_CUSTOMERS", plan.customers[n].join(","))
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("worker starts");
            let out = child.stdout.take().expect("stdout");
            let lines = Arc::new(Mutex::new(Vec::new()));
            let sink = Arc::clone(&lines);
            w.readers.push(std::thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    sink.lock().unwrap().push(line);
                }
            }));
            w.stdins.push(child.stdin.take());
            w.children.push(child);
            w.lines.push(lines);
        }
        w
    }

    fn send(&mut self, message: &str) {
        for stdin in self.stdins.iter_mut().flatten() {
            writeln!(stdin, "{message}").expect("worker reads its input");
            stdin.flush().expect("flush");
        }
    }

    fn items(&self) -> Vec<Item> {
        let mut items = Vec::new();
        for (worker, lines) in self.lines.iter().enumerate() {
            for line in lines.lock().unwrap().iter() {
                if let Some(item) = parse_item(worker, line) {
                    items.push(item);
                }
            }
        }
        items
    }

    fn said(&self, worker: usize, line: &str) -> bool {
        self.lines[worker].lock().unwrap().iter().any(|l| l == line)
    }

    /// Waits until `done` holds, failing if a worker exits first or the
    /// run hangs.
    async fn until(&mut self, what: &str, done: impl Fn(&Workers) -> bool) {
        let started = Instant::now();
        while !done(self) {
            for (n, child) in self.children.iter_mut().enumerate() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("worker {n} exited ({status}) while waiting for {what}");
                }
            }
            assert!(started.elapsed() < HANG, "hung waiting for {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn go(&mut self) {
        self.until("every worker ready", |w| {
            (0..w.children.len()).all(|n| w.said(n, "ready"))
        })
        .await;
        self.send("go");
    }

    /// Moves every worker to `phase` and waits for each to acknowledge.
    async fn phase(&mut self, phase: u8) {
        self.send(&phase.to_string());
        let ack = format!("ack {phase}");
        self.until(&ack.clone(), move |w| {
            (0..w.children.len()).all(|n| w.said(n, &ack))
        })
        .await;
    }

    /// Ends the input, waits for every worker to finish and succeed.
    async fn finish(mut self) -> Vec<Item> {
        self.stdins.iter_mut().for_each(|s| drop(s.take()));
        let children = std::mem::take(&mut self.children);
        let statuses = tokio::task::spawn_blocking(move || {
            children
                .into_iter()
                .map(|mut c| c.wait().expect("worker ends"))
                .collect::<Vec<_>>()
        })
        .await
        .expect("join");
        for reader in std::mem::take(&mut self.readers) {
            reader.join().expect("reader");
        }
        for (n, status) in statuses.iter().enumerate() {
            assert!(status.success(), "worker {n} failed: {status}");
            assert!(self.said(n, "done"), "worker {n} did not finish its run");
        }
        self.items()
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn parse_item(worker: usize, line: &str) -> Option<Item> {
    let f: Vec<&str> = line.split(' ').collect();
    if f.first() != Some(&"item") || f.len() != 8 {
        return None;
    }
    Some(Item {
        worker,
        generated: f[1].parse().ok()?,
        finished: f[2].parse().ok()?,
        customer: f[3].to_owned(),
        value: f[4].to_owned(),
        outcome: f[5].to_owned(),
        retryable: f[6] == "retryable",
    })
}

fn count(items: &[Item], worker: usize, keep: impl Fn(&Item) -> bool) -> usize {
    items
        .iter()
        .filter(|i| i.worker == worker && keep(i))
        .count()
}

/// The customer a Fusebill request is about: the id in a `GET`'s path, in
/// a `PUT`'s body.
fn customer_of(e: &JournalEntry) -> Option<String> {
    if e.method == "PUT" {
        return e.body.as_ref().map(|b| b["id"].to_string());
    }
    let rest = e.path.strip_prefix("/v1/customers/")?;
    Some(rest.split(['?', '/']).next()?.to_owned())
}

/// The four owned fields of a record or `PUT` body, as text.
fn owned_fields(record: &serde_json::Value) -> [String; WORKERS] {
    FIELDS.map(|f| record[f].as_str().unwrap_or_default().to_owned())
}

/// Checks the customers' applied `PUT`s in arrival order: each changes
/// exactly the one field its writer owns, every successful update is
/// applied exactly once, no failed update is, and the final record is
/// the last `PUT`. With `in_order` (a worker reported each customer's
/// updates in the order they ran: the bulk runs), the final record also
/// holds each worker's last successful value. Returns the number of
/// `PUT`s.
fn assert_no_lost_edit(
    vendor: &VendorHandle,
    initial: &HashMap<String, [String; WORKERS]>,
    items: &[Item],
    in_order: bool,
) -> usize {
    let mut last: HashMap<String, [String; WORKERS]> = initial.clone();
    let mut applied: HashMap<String, usize> = HashMap::new();
    let mut puts = 0;
    for e in vendor.journal() {
        if e.method != "PUT" {
            continue;
        }
        assert_eq!(e.status, 200, "a PUT was refused: {:?}", e.fault);
        let body = e.body.as_ref().expect("a PUT body");
        let customer = customer_of(&e).expect("a customer id");
        let Some(before) = last.get_mut(&customer) else {
            panic!("a PUT of customer {customer}, which no worker updates");
        };
        let now = owned_fields(body);
        let changed: Vec<usize> = (0..WORKERS).filter(|&k| before[k] != now[k]).collect();
        assert_eq!(
            changed.len(),
            1,
            "customer {customer}: a PUT changed {:?} (was {before:?}, now {now:?}): \
             it carried back another process's edit",
            changed.iter().map(|&k| FIELDS[k]).collect::<Vec<_>>()
        );
        let k = changed[0];
        assert!(
            now[k].starts_with(&format!("w{k}-")),
            "customer {customer}: field {} set to {:?}, not by its owner",
            FIELDS[k],
            now[k]
        );
        *applied.entry(now[k].clone()).or_default() += 1;
        *before = now;
        puts += 1;
    }
    let mut last_ok: HashMap<(String, usize), String> = HashMap::new();
    for item in items {
        let times = applied.get(&item.value).copied().unwrap_or(0);
        if item.ok() {
            assert_eq!(times, 1, "{item:?} succeeded but was applied {times} times");
            last_ok.insert((item.customer.clone(), item.worker), item.value.clone());
        } else {
            assert_eq!(times, 0, "{item:?} failed but was written");
        }
    }
    assert_eq!(
        applied.values().sum::<usize>(),
        items.iter().filter(|i| i.ok()).count(),
        "PUTs no worker reported"
    );
    for (customer, fields) in &last {
        let record = owned_fields(&vendor.customer(customer).expect("customer"));
        assert_eq!(
            &record, fields,
            "customer {customer}: the record is not the last PUT"
        );
        for (k, field) in fields.iter().enumerate() {
            if let Some(value) = last_ok.get(&(customer.clone(), k)).filter(|_| in_order) {
                assert_eq!(
                    field, value,
                    "customer {customer}: worker {k}'s last edit was lost"
                );
            }
        }
    }
    puts
}

fn initial_fields(
    vendor: &VendorHandle,
    customers: &[String],
) -> HashMap<String, [String; WORKERS]> {
    customers
        .iter()
        .map(|c| {
            (
                c.clone(),
                owned_fields(&vendor.customer(c).expect("customer")),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Scenarios.
// ---------------------------------------------------------------------------

/// Updates each worker of the zero-lost-edits run sends at once.
const EDITS_PER_WORKER: usize = 50;

/// 4 processes × 50 concurrent single-field updates of one Fusebill
/// customer through the Redis lock: every update succeeds, every edit is
/// applied once, and no `PUT` carries back another process's edit.
fn zero_lost_edits(server: &str) {
    runtime().block_on(async {
        let (redis, _url, sandbox) = redis_and_sandbox(server, 2).await;
        let vendor = sandbox.fusebill();
        let customer = unibill_sandbox::fusebill::SEED_CUSTOMER_ID.to_owned();
        let initial = initial_fields(vendor, std::slice::from_ref(&customer));
        let mut workers = Workers::spawn(&Plan {
            mode: "edits",
            redis_url: redis.url(),
            fusebill: vendor.base_url(),
            customers: vec![vec![customer.clone()]; WORKERS],
        });
        workers.go().await;
        let items = workers.finish().await;
        assert_eq!(items.len(), WORKERS * EDITS_PER_WORKER);
        for item in &items {
            assert!(item.ok(), "{item:?}");
        }
        let puts = assert_no_lost_edit(vendor, &initial, &items, false);
        assert_eq!(puts, WORKERS * EDITS_PER_WORKER);
        sandbox.shutdown().await;
    });
}

/// Updates each worker keeps in flight in the fault runs.
const FAULT_CONCURRENCY: usize = 8;

/// Redis killed in the middle of a 4-process bulk run, default policy.
///
/// - Every update that ran entirely while Redis was down failed with the
///   typed, retryable error (`Error::Lock` with `Unavailable`, or
///   `Error::Limiter`), and wrote nothing.
/// - No write without the lock: between the kill and the restart the
///   sandbox received no more than the requests permitted before the
///   kill (at most one per update in flight), and for every customer at
///   most one `PUT` (the one update that may have held its lock when Redis
///   died); over the whole run no `PUT` carried back another process's
///   edit and every failed update wrote nothing.
/// - After the restart on the same port, the same processes carry on:
///   every update generated after it succeeds.
fn fail_closed(server: &str) {
    runtime().block_on(async {
        let (redis, url, sandbox) = redis_and_sandbox(server, 5).await;
        let vendor = sandbox.fusebill();
        // Every worker updates every customer, each on its own field.
        let customers = vendor.add_customers(8);
        let initial = initial_fields(vendor, &customers);
        let mut workers = Workers::spawn(&Plan {
            mode: "fault",
            redis_url: url.clone(),
            fusebill: vendor.base_url(),
            customers: vec![customers.clone(); WORKERS],
        });
        workers.go().await;
        workers
            .until("20 updates per worker with Redis up", |w| {
                let items = w.items();
                (0..WORKERS).all(|n| count(&items, n, |i| i.ok()) >= 20)
            })
            .await;

        workers.phase(1).await;
        let port = redis.kill();
        let killed = vendor.journal().len();
        workers.phase(2).await;
        workers
            .until("10 updates per worker entirely in the outage", |w| {
                let items = w.items();
                (0..WORKERS)
                    .all(|n| count(&items, n, |i| i.generated == 2 && i.finished == 2) >= 10)
            })
            .await;
        workers.phase(3).await;
        let restarted = vendor.journal().len();
        let _redis = OwnRedis::start(server, port);
        until_up(&url).await;
        workers.phase(4).await;
        workers
            .until("20 updates per worker after the restart", |w| {
                let items = w.items();
                (0..WORKERS).all(|n| count(&items, n, |i| i.generated == 4) >= 20)
            })
            .await;
        let items = workers.finish().await;

        for n in 0..WORKERS {
            let outage = count(&items, n, |i| i.generated == 2 && i.finished == 2);
            assert!(outage >= 10, "worker {n}: {outage} updates in the outage");
            let after = count(&items, n, |i| i.generated == 4);
            assert!(after >= 20, "worker {n}: {after} updates after the restart");
        }
        // The journal first: what reached the vendor.
        let journal = vendor.journal();
        let outage = &journal[killed..restarted];
        assert!(
            outage.len() <= WORKERS * FAULT_CONCURRENCY,
            "{} requests reached the vendor while Redis was down; at most {} were \
             permitted before",
            outage.len(),
            WORKERS * FAULT_CONCURRENCY
        );
        let mut puts: BTreeMap<String, usize> = BTreeMap::new();
        for e in outage.iter().filter(|e| e.method == "PUT") {
            *puts.entry(customer_of(e).expect("id")).or_default() += 1;
        }
        for (customer, n) in &puts {
            assert!(
                *n <= 1,
                "customer {customer}: {n} PUTs while Redis was down (one lock holder at most)"
            );
        }
        for item in &items {
            match (item.generated, item.finished) {
                // Redis was up from start to end.
                (0, 0) => assert!(item.ok(), "{item:?}"),
                // Entirely in the outage: the typed, retryable error.
                (2, 2) => {
                    assert!(
                        matches!(item.outcome.as_str(), "lock-unavailable" | "limiter"),
                        "{item:?}"
                    );
                    assert!(item.retryable, "{item:?}");
                }
                // After the restart: carried on.
                (4, _) => assert!(item.ok(), "{item:?}"),
                // Across a change: succeeded, or failed with a typed error.
                _ => assert!(
                    item.ok()
                        || (item.retryable
                            && matches!(
                                item.outcome.as_str(),
                                "lock-unavailable" | "limiter" | "lock-lost"
                            )),
                    "{item:?}"
                ),
            }
        }

        let applied = assert_no_lost_edit(vendor, &initial, &items, true);
        println!(
            "  {} updates ({} failed), {applied} PUTs; {} requests during the outage, {} of \
             them PUTs",
            items.len(),
            items.iter().filter(|i| !i.ok()).count(),
            outage.len(),
            puts.values().sum::<usize>()
        );
        sandbox.shutdown().await;
    });
}

/// Customers of each worker in the fallback run (its own, not shared:
/// the fallback lock only holds within a process).
const FALLBACK_CUSTOMERS: usize = 4;
/// The fallback run's limit, and each process's share of it.
const FALLBACK_LIMIT: RateLimit = RateLimit::per_second(40);
const FALLBACK_SHARE: f64 = 0.25;

/// The requests the fallback window grants per window at the share (the
/// same rounding as the crate: down, at least one).
fn fallback_permits() -> usize {
    ((f64::from(FALLBACK_LIMIT.requests) * FALLBACK_SHARE).floor() as usize).max(1)
}

/// Redis killed in the middle of a 4-process bulk run with
/// `LocalFallback { share: 0.25 }`: the run completes (every update of
/// every phase succeeds), and while Redis is down each process sends no
/// more than its share of the limit allows over the outage (an exact
/// sliding window of `share × limit` per window grants at most that many
/// per window, one window more for the ends, plus the requests
/// permitted before the kill: one per update in flight) and does make
/// progress past its first window's share.
fn local_fallback(server: &str) {
    runtime().block_on(async {
        let (redis, url, sandbox) = redis_and_sandbox(server, 5).await;
        let vendor = sandbox.fusebill();
        let ids = vendor.add_customers(WORKERS * FALLBACK_CUSTOMERS);
        let customers: Vec<Vec<String>> = ids
            .chunks(FALLBACK_CUSTOMERS)
            .map(<[String]>::to_vec)
            .collect();
        let owner: HashMap<String, usize> = customers
            .iter()
            .enumerate()
            .flat_map(|(n, ids)| ids.iter().map(move |id| (id.clone(), n)))
            .collect();
        let initial = initial_fields(vendor, &ids);
        let per_worker = |entries: &[JournalEntry]| {
            let mut n = [0usize; WORKERS];
            for e in entries {
                let c = customer_of(e).expect("a customer request");
                n[owner[&c]] += 1;
            }
            n
        };
        let mut workers = Workers::spawn(&Plan {
            mode: "fallback",
            redis_url: url.clone(),
            fusebill: vendor.base_url(),
            customers,
        });
        workers.go().await;
        workers
            .until("5 updates per worker with Redis up", |w| {
                let items = w.items();
                (0..WORKERS).all(|n| count(&items, n, |i| i.ok()) >= 5)
            })
            .await;

        workers.phase(1).await;
        let killed_at = Instant::now();
        let port = redis.kill();
        let killed = vendor.journal().len();
        workers.phase(2).await;
        let share = fallback_permits();
        // Long enough (one and a half windows) that a process running at
        // more than its share would exceed the bound below.
        workers
            .until("each worker past its first window's share", |_| {
                let j = vendor.journal();
                killed_at.elapsed() >= FALLBACK_LIMIT.per.mul_f64(1.5)
                    && per_worker(&j[killed..]).iter().all(|&n| n > share)
            })
            .await;
        workers.phase(3).await;
        let restarted = vendor.journal().len();
        let outage = killed_at.elapsed();
        let _redis = OwnRedis::start(server, port);
        until_up(&url).await;
        workers.phase(4).await;
        workers
            .until("5 updates per worker after the restart", |w| {
                let items = w.items();
                (0..WORKERS).all(|n| count(&items, n, |i| i.generated == 4 && i.ok()) >= 5)
            })
            .await;
        let items = workers.finish().await;

        for item in &items {
            assert!(item.ok(), "the fallback run failed an update: {item:?}");
        }
        let journal = vendor.journal();
        let sent = per_worker(&journal[killed..restarted]);
        let windows = (outage.as_secs_f64() / FALLBACK_LIMIT.per.as_secs_f64()).floor() as usize;
        let bound = share * (windows + 1) + FALLBACK_CUSTOMERS;
        for (n, &sent) in sent.iter().enumerate() {
            assert!(
                sent > share,
                "worker {n} sent {sent} requests while Redis was down: stuck at one window"
            );
            assert!(
                sent <= bound,
                "worker {n} sent {sent} requests in {:.2} s without Redis; its share \
                 allows {share} per {:?}, at most {bound}",
                outage.as_secs_f64(),
                FALLBACK_LIMIT.per
            );
        }
        assert_no_lost_edit(vendor, &initial, &items, true);
        println!(
            "  {} updates, all applied; outage {:.2} s: requests per process {sent:?}, \
             share {share}/s, bound {bound}",
            items.len(),
            outage.as_secs_f64()
        );
        sandbox.shutdown().await;
    });
}

/// Every command Redis counted so far (`INFO commandstats`), by name,
/// commands run inside scripts included, `INFO` itself left out.
async fn command_calls(url: &str) -> BTreeMap<String, u64> {
    let mut conn = redis::Client::open(url)
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("redis answers");
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut conn)
        .await
        .expect("INFO");
    let mut calls = BTreeMap::new();
    for line in info.lines() {
        let Some((name, stats)) = line
            .strip_prefix("cmdstat_")
            .and_then(|l| l.split_once(':'))
        else {
            continue;
        };
        if name == "info" {
            continue;
        }
        let n = stats
            .split(',')
            .find_map(|kv| kv.strip_prefix("calls="))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        calls.insert(name.to_owned(), n);
    }
    calls
}

/// What each command gained between two [`command_calls`] readings.
fn command_delta(
    before: &BTreeMap<String, u64>,
    after: &BTreeMap<String, u64>,
) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, v)| *v > 0)
        .collect()
}

/// The keys of the lock (`{prefix}lock:*`) present in Redis now.
async fn lock_keys(url: &str, prefix: &str) -> Vec<String> {
    let mut conn = redis::Client::open(url)
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("redis answers");
    redis::cmd("KEYS")
        .arg(format!("{prefix}lock:*"))
        .query_async(&mut conn)
        .await
        .expect("KEYS")
}

/// A Redis server of the scenario's own (on a free port, answering) and
/// a sandbox whose Fusebill emulator answers after `latency_ms`: the
/// server, its URL and the sandbox.
async fn redis_and_sandbox(server: &str, latency_ms: u64) -> (OwnRedis, String, Sandbox) {
    let redis = OwnRedis::start_free(server);
    let url = redis.url();
    until_up(&url).await;
    let sandbox = Sandbox::start().await.expect("sandbox");
    sandbox
        .fusebill()
        .set_latency(Duration::from_millis(latency_ms));
    (redis, url, sandbox)
}

/// Short-lived processes run one after another.
const SHORT_LIVED: usize = 10;

/// 10 processes that each update one customer once and end at once (as a
/// CLI run or a cron job does), one after another, all on the Redis
/// limiter and lock. After each process ended, no lock key is left in
/// Redis (it released its lock before `update` returned, not in a
/// background task that never ran), and each process asked for the lock
/// exactly once: the `SET` calls Redis counted for it, less the one the
/// limiter's script makes per request, are 1 (it found the lock free and
/// did not wait). Each update's time is printed, not asserted.
fn short_lived_processes(server: &str) {
    runtime().block_on(async {
        let (_redis, url, sandbox) = redis_and_sandbox(server, 2).await;
        let vendor = sandbox.fusebill();
        let customer = unibill_sandbox::fusebill::SEED_CUSTOMER_ID.to_owned();
        let prefix = format!("unibill-test:{:016x}:", fastrand::u64(..));
        let exe = std::env::current_exe().expect("own path");
        let mut times = Vec::new();
        let mut commands = 0;
        for n in 0..SHORT_LIVED {
            let before = command_calls(&url).await;
            let requests = vendor.journal().len();
            let child = Command::new(&exe)
                .env(WORKER_VAR, n.to_string())
                .env("UNIBILL_REDIS_TEST_MODE", "once")
                .env("UNIBILL_REDIS_TEST_URL", &url)
                .env("UNIBILL_REDIS_TEST_PREFIX", &prefix)
                .env("UNIBILL_REDIS_TEST_FUSEBILL", vendor.base_url())
                .env("UNIBILL_REDIS_TEST_CUSTOMERS", &customer)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .spawn()
                .expect("worker starts");
            let out = tokio::time::timeout(
                HANG,
                tokio::task::spawn_blocking(move || child.wait_with_output()),
            )
            .await
            .expect("the process ends")
            .expect("join")
            .expect("output");
            assert!(out.status.success(), "process {n}: {}", out.status);
            let text = String::from_utf8_lossy(&out.stdout);
            let line = text
                .lines()
                .find(|l| l.starts_with("once "))
                .unwrap_or_else(|| panic!("process {n} reported nothing: {text}"));
            let f: Vec<&str> = line.split(' ').collect();
            assert_eq!(f[1], "ok", "process {n}: {line}");
            times.push(f[2].parse::<u64>().expect("micros"));
            let left = lock_keys(&url, &prefix).await;
            assert!(
                left.is_empty(),
                "process {n} ended and left its lock held: {left:?}"
            );
            let delta = command_delta(&before, &command_calls(&url).await);
            let sent = (vendor.journal().len() - requests) as u64;
            let lock_sets = delta.get("set").copied().unwrap_or(0).saturating_sub(sent);
            assert_eq!(
                lock_sets, 1,
                "process {n} asked for the lock {lock_sets} times: it waited ({delta:?})"
            );
            commands += delta.values().sum::<u64>();
        }
        let ms: Vec<String> = times
            .iter()
            .map(|us| format!("{:.1}", *us as f64 / 1000.0))
            .collect();
        println!(
            "  update times (ms), one process after another: {}; slowest {:.1} ms",
            ms.join(" "),
            *times.iter().max().unwrap_or(&0) as f64 / 1000.0
        );
        println!(
            "  redis commands per uncontended update (connection setup included): {:.1}",
            commands as f64 / SHORT_LIVED as f64
        );
        sandbox.shutdown().await;
    });
}

/// Processes of the contended run, and updates each starts at once.
const CONTENDERS: usize = 8;
const CONTENDING_EDITS: usize = 25;
/// The most Redis commands an update of the contended run may cost on
/// average (scripts' inner commands included). A waiter polling `SET NX`
/// every ~25 ms costs several times that.
const COMMANDS_PER_CONTENDED_UPDATE: f64 = 30.0;

/// 8 processes × 25 concurrent updates of one customer through the Redis
/// limiter and lock: every update succeeds, and the commands Redis
/// counted over the run, per update, stay under a bound that waiters
/// polling the lock would far exceed (a count, not a time).
fn contended_commands(server: &str) {
    runtime().block_on(async {
        let (_redis, url, sandbox) = redis_and_sandbox(server, 2).await;
        let vendor = sandbox.fusebill();
        let customer = unibill_sandbox::fusebill::SEED_CUSTOMER_ID.to_owned();
        let mut workers = Workers::spawn(&Plan {
            mode: "contend",
            redis_url: url.clone(),
            fusebill: vendor.base_url(),
            customers: vec![vec![customer.clone()]; CONTENDERS],
        });
        // Counted from when every process is connected and ready.
        workers
            .until("every worker ready", |w| {
                (0..CONTENDERS).all(|n| w.said(n, "ready"))
            })
            .await;
        let before = command_calls(&url).await;
        let started = Instant::now();
        workers.go().await;
        let items = workers.finish().await;
        let took = started.elapsed();
        let delta = command_delta(&before, &command_calls(&url).await);
        let updates = CONTENDERS * CONTENDING_EDITS;
        assert_eq!(items.len(), updates);
        for item in &items {
            assert!(item.ok(), "{item:?}");
        }
        let puts = vendor
            .journal()
            .iter()
            .filter(|e| e.method == "PUT")
            .count();
        assert_eq!(puts, updates);
        let total: u64 = delta.values().sum();
        let per_update = total as f64 / updates as f64;
        println!(
            "  {updates} updates in {:.2} s; {total} redis commands = {per_update:.1} per update: \
             {delta:?}",
            took.as_secs_f64()
        );
        assert!(
            per_update <= COMMANDS_PER_CONTENDED_UPDATE,
            "{per_update:.1} redis commands per update (at most \
             {COMMANDS_PER_CONTENDED_UPDATE}): {delta:?}"
        );
        sandbox.shutdown().await;
    });
}

// ---------------------------------------------------------------------------
// The worker process.
// ---------------------------------------------------------------------------

mod worker {
    use super::*;

    fn var(name: &str) -> String {
        std::env::var(name).unwrap_or_else(|_| panic!("{name} is set by the test"))
    }

    /// The name a worker reports a failure under.
    pub(super) fn failure(e: &Error) -> String {
        match e {
            Error::Lock { reason, .. } => match reason {
                LockFailure::Unavailable(_) => "lock-unavailable".into(),
                LockFailure::Lost => "lock-lost".into(),
                LockFailure::TimedOut(_) => "lock-timed-out".into(),
                _ => "lock-other".into(),
            },
            Error::Limiter { .. } => "limiter".into(),
            other => format!("other-{:?}", other.kind()),
        }
    }

    fn patch(worker: usize, value: String) -> CustomerPatch {
        let p = CustomerPatch::new();
        match worker {
            0 => p.first_name(value),
            1 => p.last_name(value),
            2 => p.company(value),
            _ => p.phone(value),
        }
    }

    fn report(
        generated: u8,
        finished: u8,
        customer: &str,
        value: &str,
        result: &unibill_core::Result<impl Sized>,
    ) {
        match result {
            Ok(_) => println!("item {generated} {finished} {customer} {value} ok - -"),
            Err(e) => {
                let name = failure(e);
                if name.starts_with("other") {
                    eprintln!("worker: unexpected failure: {e}");
                }
                let retryable = if e.is_retryable() {
                    "retryable"
                } else {
                    "final"
                };
                println!("item {generated} {finished} {customer} {value} {name} {retryable} -");
            }
        }
    }

    pub(super) fn run(n: usize) {
        let mode = var("UNIBILL_REDIS_TEST_MODE");
        let customers: Vec<String> = var("UNIBILL_REDIS_TEST_CUSTOMERS")
            .split(',')
            .map(str::to_owned)
            .collect();
        let mut settings = RedisSetting::new(var("UNIBILL_REDIS_TEST_URL"));
        settings.prefix = Some(var("UNIBILL_REDIS_TEST_PREFIX"));
        settings.timeout = Some(Duration::from_millis(500));
        settings.lease = Some(Duration::from_secs(2));
        let (limit, concurrency) = match mode.as_str() {
            "fallback" => {
                settings.fallback_share = Some(FALLBACK_SHARE);
                (FALLBACK_LIMIT, FALLBACK_CUSTOMERS)
            }
            "fault" => (RateLimit::per_second(2_000), FAULT_CONCURRENCY),
            "contend" => (RateLimit::per_second(2_000), CONTENDING_EDITS),
            _ => (RateLimit::per_second(2_000), EDITS_PER_WORKER),
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let redis = RedisCoordinator::new(settings).expect("coordinator");
            let client = Fusebill::builder()
                .base_url(var("UNIBILL_REDIS_TEST_FUSEBILL"))
                .api_key(unibill_sandbox::FUSEBILL_API_KEY)
                .settings(Settings {
                    rate_limit: Some(Some(limit)),
                    lock_wait: Duration::from_secs(60),
                    ..Settings::default()
                })
                .rate_limiter(redis.rate_limiter())
                .write_locking(redis.write_locking())
                .build()
                .expect("client");
            if mode == "once" {
                // A short-lived process (a CLI run, a cron job): one
                // update, then the process ends at once, the way
                // `std::process::exit` ends it: no task of the runtime
                // runs after the update returned.
                let id = CustomerId::from(customers[0].as_str());
                let started = Instant::now();
                let result = client
                    .update(&id, &patch(n % WORKERS, format!("w{}-{n}", n % WORKERS)))
                    .await;
                let took = started.elapsed();
                match result {
                    Ok(_) => println!("once ok {}", took.as_micros()),
                    Err(e) => println!("once failed {} {e}", took.as_micros()),
                }
                std::io::stdout().flush().expect("flush");
                std::process::exit(0);
            }
            let phase = Arc::new(AtomicU8::new(0));
            let stop = Arc::new(AtomicBool::new(false));
            let (go_tx, go_rx) = tokio::sync::oneshot::channel();
            {
                let (phase, stop) = (Arc::clone(&phase), Arc::clone(&stop));
                std::thread::spawn(move || {
                    let mut go = Some(go_tx);
                    for line in std::io::stdin().lock().lines() {
                        let Ok(line) = line else { break };
                        match line.trim() {
                            "go" => {
                                if let Some(go) = go.take() {
                                    let _ = go.send(());
                                }
                            }
                            p => {
                                if let Ok(p) = p.parse::<u8>() {
                                    phase.store(p, Ordering::SeqCst);
                                    println!("ack {p}");
                                }
                            }
                        }
                    }
                    stop.store(true, Ordering::SeqCst);
                    drop(go);
                });
            }
            println!("ready");
            if go_rx.await.is_err() {
                return;
            }
            if mode == "edits" || mode == "contend" {
                edits(n, client, &customers[0], concurrency).await;
            } else {
                bulk(n, &client, customers, concurrency, phase, stop).await;
            }
            println!("done");
        });
    }

    /// `count` updates of one customer, all started at once. Worker `n`
    /// sets field `n mod 4`.
    async fn edits(n: usize, client: Fusebill, customer: &str, count: usize) {
        let client = Arc::new(client);
        let id = CustomerId::from(customer);
        let tasks: Vec<_> = (0..count)
            .map(|i| {
                let (client, id) = (Arc::clone(&client), id.clone());
                let value = format!("w{}-{n}-{i}", n % WORKERS);
                tokio::spawn(async move {
                    let r = client.update(&id, &patch(n % WORKERS, value.clone())).await;
                    (value, r)
                })
            })
            .collect();
        for task in tasks {
            let (value, result) = task.await.expect("update task");
            report(0, 0, customer, &value, &result);
        }
    }

    /// An item handed to the bulk run: the phase it was generated in, its
    /// customer and the value it sets.
    type Generated = (u8, String, String);

    /// A bulk run over `customers`, one update generated every 2 ms, until
    /// the input ends.
    async fn bulk(
        n: usize,
        client: &Fusebill,
        customers: Vec<String>,
        concurrency: usize,
        phase: Arc<AtomicU8>,
        stop: Arc<AtomicBool>,
    ) {
        let generated: Arc<Mutex<HashMap<u64, Generated>>> = Arc::default();
        let items = {
            let (generated, phase) = (Arc::clone(&generated), Arc::clone(&phase));
            futures_util::stream::unfold(0u64, move |i| {
                let (generated, phase, stop) = (
                    Arc::clone(&generated),
                    Arc::clone(&phase),
                    Arc::clone(&stop),
                );
                let customer = customers[i as usize % customers.len()].clone();
                async move {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    if stop.load(Ordering::SeqCst) {
                        return None;
                    }
                    let value = format!("w{n}-{i}");
                    let at = phase.load(Ordering::SeqCst);
                    generated
                        .lock()
                        .unwrap()
                        .insert(i, (at, customer.clone(), value.clone()));
                    Some(((CustomerId::from(customer), patch(n, value)), i + 1))
                }
            })
        };
        let options = unibill_core::bulk::BulkOptions {
            concurrency,
            ..unibill_core::bulk::BulkOptions::default()
        };
        unibill_core::bulk::bulk_update_stream(client, items, options)
            .for_each_result(|r| {
                let finished = phase.load(Ordering::SeqCst);
                let (at, customer, value) = generated
                    .lock()
                    .unwrap()
                    .remove(&r.index)
                    .expect("a generated item");
                report(at, finished, &customer, &value, &r.result);
            })
            .await;
    }
}
