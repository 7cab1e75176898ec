//! Journal, faults, latency, rate limits, connections, hooks and shutdown.

mod common;

use std::time::{Duration, Instant, SystemTime};

use common::{cm, ev, fb, send, start};
use serde_json::json;
use unibill_sandbox::chartmogul::SEED_CUSTOMER_UUID;
use unibill_sandbox::fusebill::SEED_CUSTOMER_ID;
use unibill_sandbox::{
    Fault, RateLimit, RequestMatcher, Sandbox, SandboxConfig, CHARTMOGUL_API_KEY,
    EVERLYTIC_API_KEY, FUSEBILL_API_KEY,
};

fn cm_path() -> String {
    format!("/v1/customers/{SEED_CUSTOMER_UUID}")
}

#[tokio::test]
async fn journal_records_requests_and_masks_secrets() {
    let sb = start().await;
    send(cm(&sb, "GET", &format!("{}?verbose=1", cm_path()))).await;
    send(cm(&sb, "PATCH", &cm_path()).json(&json!({"city": "Paris"}))).await;
    send(common::client().get(format!("{}{}", sb.chartmogul().base_url(), cm_path()))).await;
    let j = sb.chartmogul().journal();
    assert_eq!(j.len(), 3);
    assert_eq!(j[0].method, "GET");
    assert_eq!(j[0].path, format!("{}?verbose=1", cm_path()));
    assert_eq!(j[0].status, 200);
    assert!(!j[0].is_write());
    assert_eq!(j[0].body, None);
    assert_eq!(j[0].raw_body, "");
    assert_eq!(j[0].header("authorization"), Some("Basic ***"));
    assert_eq!(j[1].method, "PATCH");
    assert!(j[1].is_write());
    assert_eq!(j[1].body, Some(json!({"city": "Paris"})));
    assert_eq!(j[1].raw_body, r#"{"city":"Paris"}"#);
    assert_eq!(j[1].fault, None);
    assert_eq!(j[2].status, 401);
    assert_eq!(j[2].header("authorization"), None);

    send(fb(&sb, "GET", &format!("/v1/customers/{SEED_CUSTOMER_ID}"))).await;
    send(ev(&sb, "GET", "/api/2.0/customers/1001")).await;
    for (journal, secret) in [
        (sb.chartmogul().journal(), CHARTMOGUL_API_KEY),
        (sb.fusebill().journal(), FUSEBILL_API_KEY),
        (sb.everlytic().journal(), EVERLYTIC_API_KEY),
    ] {
        let dump = format!("{journal:?}");
        assert!(!dump.contains(secret));
        assert!(journal
            .iter()
            .filter_map(|e| e.header("authorization"))
            .all(|v| v == "Basic ***"));
    }
    sb.chartmogul().clear_journal();
    assert!(sb.chartmogul().journal().is_empty());
}

/// A bounded journal keeps the latest requests only (a ring), `Some(0)`
/// keeps none, and `None` goes back to keeping every request.
#[tokio::test]
async fn journal_capacity_keeps_the_latest_requests() {
    let sb = start().await;
    assert_eq!(sb.chartmogul().journal_capacity(), None);
    sb.chartmogul().set_journal_capacity(Some(2));
    for city in ["A", "B", "C"] {
        send(cm(&sb, "PATCH", &cm_path()).json(&json!({ "city": city }))).await;
    }
    let j = sb.chartmogul().journal();
    assert_eq!(j.len(), 2);
    assert_eq!(j[0].body, Some(json!({"city": "B"})));
    assert_eq!(j[1].body, Some(json!({"city": "C"})));
    assert_eq!(j[1].status, 200, "a kept entry is completed");

    sb.set_journal_capacity(Some(0));
    assert!(sb.chartmogul().journal().is_empty());
    send(cm(&sb, "GET", &cm_path())).await;
    send(fb(&sb, "GET", &format!("/v1/customers/{SEED_CUSTOMER_ID}"))).await;
    assert!(sb.chartmogul().journal().is_empty());
    assert!(sb.fusebill().journal().is_empty());
    // The requests were still answered and applied.
    assert_eq!(
        sb.chartmogul().customer(SEED_CUSTOMER_UUID).unwrap()["city"],
        "C"
    );

    sb.set_journal_capacity(None);
    for _ in 0..3 {
        send(cm(&sb, "GET", &cm_path())).await;
    }
    assert_eq!(sb.chartmogul().journal().len(), 3);
}

#[tokio::test]
async fn status_faults_answer_without_applying() {
    let sb = start().await;
    sb.chartmogul().inject(Fault::status(503));
    let r = send(cm(&sb, "PATCH", &cm_path()).json(&json!({"city": "Paris"}))).await;
    assert_eq!(r.status, 503);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(r.text.contains("503"));
    assert!(serde_json::from_str::<serde_json::Value>(&r.text).is_err());
    assert_eq!(r.header("retry-after"), None);
    let c = sb.chartmogul().customer(SEED_CUSTOMER_UUID).unwrap();
    assert_eq!(c["city"], json!("San Francisco"));
    let last = sb.chartmogul().journal().pop().unwrap();
    assert_eq!(last.status, 503);
    assert_eq!(last.fault.as_deref(), Some("status 503"));

    sb.fusebill().inject(Fault::status(500));
    let r = send(fb(&sb, "GET", &format!("/v1/customers/{SEED_CUSTOMER_ID}"))).await;
    assert_eq!(r.status, 500);
    assert_eq!(r.json()["HttpStatusCode"], json!(500));
    assert!(r.header("x-rate-limit-limit-minute").is_some());

    sb.everlytic().inject(Fault::status(502));
    let r = send(ev(&sb, "GET", "/api/2.0/customers/1001")).await;
    assert_eq!(r.status, 502);
    assert!(r.json()["error"]["message"].is_string());

    // ChartMogul 4xx faults use its JSON error shape.
    sb.chartmogul().inject(Fault::status(429));
    let r = send(cm(&sb, "GET", &cm_path())).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.json()["code"], json!(429));
}

#[tokio::test]
async fn retry_after_only_when_asked() {
    let sb = start().await;
    sb.fusebill().inject(Fault::status(429).retry_after_secs(2));
    let r = send(fb(&sb, "GET", &format!("/v1/customers/{SEED_CUSTOMER_ID}"))).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after").as_deref(), Some("2"));
    assert_eq!(
        sb.fusebill().journal()[0].fault.as_deref(),
        Some("status 429 retry-after 2")
    );
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    sb.chartmogul()
        .inject(Fault::status(503).retry_after_date(at));
    let r = send(cm(&sb, "GET", &cm_path())).await;
    assert_eq!(r.status, 503);
    assert_eq!(
        r.header("retry-after").as_deref(),
        Some("Tue, 14 Nov 2023 22:13:20 GMT")
    );
    sb.everlytic().inject(Fault::status(429));
    let r = send(ev(&sb, "GET", "/api/2.0/customers/1001")).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), None);
}

#[tokio::test]
async fn delay_waits_then_applies() {
    let sb = start().await;
    sb.chartmogul()
        .inject(Fault::delay(Duration::from_millis(300)));
    let t = Instant::now();
    let r = send(cm(&sb, "PATCH", &cm_path()).json(&json!({"city": "Paris"}))).await;
    assert!(t.elapsed() >= Duration::from_millis(300));
    assert_eq!(r.status, 200);
    assert_eq!(
        sb.chartmogul().customer(SEED_CUSTOMER_UUID).unwrap()["city"],
        json!("Paris")
    );
    assert_eq!(
        sb.chartmogul().journal()[0].fault.as_deref(),
        Some("delay 300ms")
    );
}

#[tokio::test]
async fn dropped_connection_gets_no_response_and_applies_nothing() {
    let sb = start().await;
    sb.fusebill().inject(Fault::drop_connection());
    let body = json!({"id": 12000750, "status": "Active"});
    let err = fb(&sb, "PUT", "/v1/customers")
        .json(&body)
        .send()
        .await
        .expect_err("the connection is dropped");
    assert!(!err.is_timeout());
    let c = sb.fusebill().customer(SEED_CUSTOMER_ID).unwrap();
    assert_eq!(c["firstName"], json!("Katelyn"));
    let j = sb.fusebill().journal();
    assert_eq!(j.len(), 1);
    assert_eq!(j[0].status, 0);
    assert_eq!(j[0].fault.as_deref(), Some("drop_connection"));
    // The next request is served normally.
    let r = send(fb(&sb, "GET", &format!("/v1/customers/{SEED_CUSTOMER_ID}"))).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn garbage_body_applies_then_garbles() {
    let sb = start().await;
    sb.chartmogul().inject(Fault::garbage_body());
    let resp = cm(&sb, "PATCH", &cm_path())
        .json(&json!({"city": "Paris"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let bytes = resp.bytes().await.unwrap();
    assert!(serde_json::from_slice::<serde_json::Value>(&bytes).is_err());
    assert_eq!(
        sb.chartmogul().customer(SEED_CUSTOMER_UUID).unwrap()["city"],
        json!("Paris")
    );
    assert_eq!(
        sb.chartmogul().journal()[0].fault.as_deref(),
        Some("garbage_body")
    );
}

#[tokio::test]
async fn faults_are_fifo_counted_and_matched() {
    let sb = start().await;
    let h = sb.fusebill();
    h.inject(Fault::status(503).matching("PUT", "/v1/customers").times(2));
    h.inject(Fault::status(502));
    let get_path = format!("/v1/customers/{SEED_CUSTOMER_ID}");
    // GET skips the PUT-only fault and takes the 502.
    assert_eq!(send(fb(&sb, "GET", &get_path)).await.status, 502);
    assert_eq!(send(fb(&sb, "GET", &get_path)).await.status, 200);
    let body = json!({"id": 12000750, "status": "Active"});
    assert_eq!(
        send(fb(&sb, "PUT", "/v1/customers").json(&body))
            .await
            .status,
        503
    );
    assert_eq!(h.pending_faults(), 1);
    assert_eq!(
        send(fb(&sb, "PUT", "/v1/customers").json(&body))
            .await
            .status,
        503
    );
    assert_eq!(h.pending_faults(), 0);
    assert_eq!(
        send(fb(&sb, "PUT", "/v1/customers").json(&body))
            .await
            .status,
        200
    );

    h.inject(Fault::status(500).times(5));
    h.clear_faults();
    assert_eq!(send(fb(&sb, "GET", &get_path)).await.status, 200);

    // Faults belong to one vendor only.
    sb.everlytic().inject(Fault::status(503));
    assert_eq!(send(fb(&sb, "GET", &get_path)).await.status, 200);
    assert_eq!(sb.everlytic().pending_faults(), 1);
}

#[tokio::test]
async fn rate_limiter_answers_429_per_vendor_rules() {
    let sb = start().await;
    let window = Duration::from_millis(1500);
    sb.chartmogul()
        .set_rate_limit(Some(RateLimit::new(3, window)));
    let t = Instant::now();
    for _ in 0..3 {
        assert_eq!(send(cm(&sb, "GET", &cm_path())).await.status, 200);
    }
    let r = send(cm(&sb, "GET", &cm_path())).await;
    assert!(
        t.elapsed() < window,
        "test machine too slow to check the window"
    );
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), None);
    assert_eq!(r.json()["code"], json!(429));
    assert_eq!(
        sb.chartmogul().journal().last().unwrap().fault.as_deref(),
        Some("rate_limit")
    );
    tokio::time::sleep(window).await;
    assert_eq!(send(cm(&sb, "GET", &cm_path())).await.status, 200);
    sb.chartmogul().set_rate_limit(None);
    for _ in 0..5 {
        assert_eq!(send(cm(&sb, "GET", &cm_path())).await.status, 200);
    }

    sb.fusebill()
        .set_rate_limit(Some(RateLimit::new(2, Duration::from_secs(60))));
    let p = format!("/v1/customers/{SEED_CUSTOMER_ID}");
    let r1 = send(fb(&sb, "GET", &p)).await;
    assert_eq!(r1.header("x-rate-limit-limit-minute").as_deref(), Some("2"));
    assert_eq!(
        r1.header("x-rate-limit-remaining-minute").as_deref(),
        Some("1")
    );
    let r2 = send(fb(&sb, "GET", &p)).await;
    assert_eq!(
        r2.header("x-rate-limit-remaining-minute").as_deref(),
        Some("0")
    );
    let r3 = send(fb(&sb, "GET", &p)).await;
    assert_eq!(r3.status, 429);
    assert_eq!(r3.header("retry-after"), None);
    assert_eq!(
        r3.header("x-rate-limit-remaining-minute").as_deref(),
        Some("0")
    );
    assert_eq!(r3.json()["HttpStatusCode"], json!(429));

    assert_eq!(
        RateLimit::CHARTMOGUL,
        RateLimit::new(40, Duration::from_secs(1))
    );
    assert_eq!(
        RateLimit::FUSEBILL,
        RateLimit::new(1000, Duration::from_secs(60))
    );
    assert_eq!(
        RateLimit::FUSEBILL_SANDBOX,
        RateLimit::new(50, Duration::from_secs(60))
    );
}

#[tokio::test]
async fn latency_is_added_to_every_request() {
    let sb = start().await;
    sb.everlytic().set_latency(Duration::from_millis(200));
    let t = Instant::now();
    assert_eq!(
        send(ev(&sb, "GET", "/api/2.0/customers/1001")).await.status,
        200
    );
    assert!(t.elapsed() >= Duration::from_millis(200));
    sb.everlytic().set_latency(Duration::ZERO);
}

#[tokio::test]
async fn connections_are_counted() {
    let sb = start().await;
    assert_eq!(sb.chartmogul().connections_accepted(), 0);
    let pooled = reqwest::Client::new();
    let url = format!("{}{}", sb.chartmogul().base_url(), cm_path());
    for _ in 0..3 {
        let r = pooled
            .get(&url)
            .basic_auth(CHARTMOGUL_API_KEY, Some(""))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        r.bytes().await.unwrap();
    }
    assert_eq!(sb.chartmogul().connections_accepted(), 1);
    for _ in 0..2 {
        send(cm(&sb, "GET", &cm_path())).await; // a fresh client each time
    }
    assert_eq!(sb.chartmogul().connections_accepted(), 3);
    assert_eq!(sb.fusebill().connections_accepted(), 0);
}

#[tokio::test]
async fn hooks_run_between_handling_and_response() {
    let sb = start().await;
    let get_path = format!("/v1/customers/{SEED_CUSTOMER_ID}");
    sb.fusebill()
        .on_next_request(RequestMatcher::new("PUT", "/"), |h| {
            h.update_customer(SEED_CUSTOMER_ID, |c| c["lastName"] = json!("Never"));
        });
    sb.fusebill()
        .on_next_request(RequestMatcher::new("GET", "/v1/customers"), |h| {
            h.update_customer(SEED_CUSTOMER_ID, |c| {
                c["companyName"] = json!("Edited Elsewhere")
            });
        });
    let r = send(fb(&sb, "GET", &get_path)).await;
    // The response was produced before the hook ran ...
    assert_eq!(r.json()["companyName"], json!("Ronbert"));
    // ... and the store changed right after, modifiedTimestamp too.
    let now = sb.fusebill().customer(SEED_CUSTOMER_ID).unwrap();
    assert_eq!(now["companyName"], json!("Edited Elsewhere"));
    assert_ne!(now["modifiedTimestamp"], r.json()["modifiedTimestamp"]);
    // The PUT hook did not run for a GET, and the GET hook runs only once.
    assert_eq!(now["lastName"], json!("Floyd"));
    sb.fusebill()
        .update_customer(SEED_CUSTOMER_ID, |c| c["companyName"] = json!("Ronbert"));
    send(fb(&sb, "GET", &get_path)).await;
    assert_eq!(
        sb.fusebill().customer(SEED_CUSTOMER_ID).unwrap()["companyName"],
        json!("Ronbert")
    );
    // A status fault means not handled: the hook waits for the next one.
    sb.fusebill().inject(Fault::status(503));
    let body = json!({"id": 12000750, "status": "Active", "lastName": "Floyd"});
    assert_eq!(
        send(fb(&sb, "PUT", "/v1/customers").json(&body))
            .await
            .status,
        503
    );
    assert_eq!(
        sb.fusebill().customer(SEED_CUSTOMER_ID).unwrap()["lastName"],
        json!("Floyd")
    );
    assert_eq!(
        send(fb(&sb, "PUT", "/v1/customers").json(&body))
            .await
            .status,
        200
    );
    assert_eq!(
        sb.fusebill().customer(SEED_CUSTOMER_ID).unwrap()["lastName"],
        json!("Never")
    );
    // Hooks also see the vendor: any matcher works on Everlytic.
    let (tx, rx) = std::sync::mpsc::channel();
    sb.everlytic()
        .on_next_request(RequestMatcher::any(), move |h| {
            let _ = tx.send(h.journal().len());
        });
    send(ev(&sb, "GET", "/api/2.0/customers/1001")).await;
    assert_eq!(rx.recv_timeout(Duration::from_secs(1)).unwrap(), 1);
}

#[tokio::test]
async fn shutdown_stops_listening_but_keeps_handles_readable() {
    let sb = start().await;
    let handle = sb.chartmogul().clone();
    let url = format!("{}{}", handle.base_url(), cm_path());
    assert_eq!(send(cm(&sb, "GET", &cm_path())).await.status, 200);
    sb.shutdown().await;
    let err = common::client()
        .get(&url)
        .basic_auth(CHARTMOGUL_API_KEY, Some(""))
        .send()
        .await
        .expect_err("nothing listens after shutdown");
    assert!(err.is_connect() || err.is_request(), "{err:?}");
    assert_eq!(handle.journal().len(), 1);
    assert!(handle.customer(SEED_CUSTOMER_UUID).is_some());
}

#[tokio::test]
async fn drop_stops_listening_too() {
    let sb = start().await;
    let addr = sb
        .fusebill()
        .base_url()
        .trim_start_matches("http://")
        .to_string();
    drop(sb);
    let mut refused = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(&addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(refused, "listener still open after drop");
}

#[tokio::test]
async fn start_with_fixed_ports_and_latency() {
    let mut ports = Vec::new();
    for _ in 0..4 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        ports.push(l.local_addr().unwrap().port());
    }
    let sb = Sandbox::start_with(SandboxConfig {
        chartmogul_port: ports[0],
        fusebill_port: ports[1],
        everlytic_port: ports[2],
        stripe_port: ports[3],
        latency: Duration::from_millis(100),
    })
    .await
    .unwrap();
    assert_eq!(
        sb.chartmogul().base_url(),
        format!("http://127.0.0.1:{}", ports[0])
    );
    assert_eq!(
        sb.fusebill().base_url(),
        format!("http://127.0.0.1:{}", ports[1])
    );
    assert_eq!(
        sb.everlytic().base_url(),
        format!("http://127.0.0.1:{}", ports[2])
    );
    assert_eq!(
        sb.stripe().base_url(),
        format!("http://127.0.0.1:{}", ports[3])
    );
    let t = Instant::now();
    assert_eq!(
        send(fb(&sb, "GET", &format!("/v1/customers/{SEED_CUSTOMER_ID}")))
            .await
            .status,
        200
    );
    assert!(t.elapsed() >= Duration::from_millis(100));
    // A port already in use is an error, not a panic.
    let clash = Sandbox::start_with(SandboxConfig {
        chartmogul_port: ports[0],
        ..SandboxConfig::default()
    })
    .await;
    assert!(clash.is_err());
    sb.shutdown().await;
}

#[tokio::test]
async fn oversized_body_is_refused() {
    let sb = start().await;
    let big = format!("{{\"name\":\"{}\"}}", "x".repeat(1_100_000));
    let r = send(
        ev(&sb, "PUT", "/api/2.0/customers/1001")
            .header("content-type", "application/json")
            .body(big),
    )
    .await;
    assert_eq!(r.status, 413);
    assert_eq!(sb.everlytic().journal()[0].status, 413);
}

#[tokio::test]
async fn parallel_requests_beyond_the_limit_get_503() {
    let sb = start().await;
    let h = sb.chartmogul();
    h.set_max_in_flight(Some(2));
    h.set_latency(Duration::from_millis(1000));
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let rb = cm(&sb, "GET", &cm_path());
        tasks.push(tokio::spawn(async move { send(rb).await.status }));
        // Make sure the first two are in flight before the third arrives.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(statuses, vec![200, 200, 503]);
    let faults: Vec<_> = h.journal().into_iter().filter_map(|e| e.fault).collect();
    assert_eq!(faults, vec!["concurrency_limit".to_string()]);
    h.set_max_in_flight(None);
    h.set_latency(Duration::ZERO);
    assert_eq!(send(cm(&sb, "GET", &cm_path())).await.status, 200);
}

#[test]
fn handles_are_clone_send_sync() {
    fn assert_traits<T: Clone + Send + Sync + 'static>() {}
    assert_traits::<unibill_sandbox::VendorHandle>();
    assert_traits::<unibill_sandbox::Fault>();
    assert_traits::<unibill_sandbox::JournalEntry>();
    fn assert_send<T: Send>() {}
    assert_send::<Sandbox>();
}

#[tokio::test]
async fn credentials_method_matches_the_constants() {
    let sb = start().await;
    let c = sb.credentials();
    assert_eq!(c.chartmogul_api_key, CHARTMOGUL_API_KEY);
    assert_eq!(c.fusebill_api_key, FUSEBILL_API_KEY);
    assert_eq!(c.everlytic_api_key, EVERLYTIC_API_KEY);
    assert_eq!(c.everlytic_username, unibill_sandbox::EVERLYTIC_USERNAME);
    assert_eq!(c.stripe_api_key, unibill_sandbox::STRIPE_API_KEY);
    assert!(unibill_sandbox::STRIPE_API_KEY.starts_with("sk_test_"));
    // The Fusebill key looks like issued base64 text.
    assert!(FUSEBILL_API_KEY
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='));
    assert_eq!(FUSEBILL_API_KEY.len() % 4, 0);
    assert_eq!(unibill_sandbox::Vendor::ALL.len(), 4);
    assert_eq!(
        unibill_sandbox::Vendor::from_name("stripe"),
        Some(unibill_sandbox::Vendor::Stripe)
    );
    let vars: std::collections::HashMap<_, _> = sb.env_vars().into_iter().collect();
    assert_eq!(vars.len(), 9);
    assert_eq!(vars["STRIPE_BASE_URL"], sb.stripe().base_url());
    assert_eq!(vars["STRIPE_API_KEY"], unibill_sandbox::STRIPE_API_KEY);
    for vendor in unibill_sandbox::Vendor::ALL.iter().copied() {
        assert_eq!(sb.vendor(vendor).vendor(), vendor);
        assert!(sb
            .vendor(vendor)
            .base_url()
            .starts_with("http://127.0.0.1:"));
        assert!(!sb.vendor(vendor).base_url().ends_with('/'));
    }
}

/// `add_customers` adds readable customers with fresh ids of each vendor's
/// form, copies of the first seeded one, and leaves the seeded ones alone.
#[tokio::test]
async fn added_customers_have_fresh_ids_and_answer_reads() {
    let sb = start().await;
    let cm_ids = sb.chartmogul().add_customers(3);
    let fb_ids = sb.fusebill().add_customers(3);
    let ev_ids = sb.everlytic().add_customers(3);
    let st_ids = sb.stripe().add_customers(3);
    for ids in [&cm_ids, &fb_ids, &ev_ids, &st_ids] {
        assert_eq!(ids.len(), 3);
        let distinct: std::collections::BTreeSet<_> = ids.iter().collect();
        assert_eq!(distinct.len(), 3, "{ids:?}");
    }
    for id in &cm_ids {
        assert!(id.starts_with("cus_"), "{id}");
        let r = send(cm(&sb, "GET", &format!("/v1/customers/{id}"))).await;
        assert_eq!(r.status, 200, "{id}: {}", r.text);
        assert!(r.text.contains(id.as_str()), "{}", r.text);
    }
    for id in &fb_ids {
        assert!(id.parse::<u64>().is_ok() && id.as_str() != SEED_CUSTOMER_ID);
        let r = send(fb(&sb, "GET", &format!("/v1/customers/{id}"))).await;
        assert_eq!(r.status, 200, "{id}: {}", r.text);
    }
    for id in &ev_ids {
        let r = send(ev(&sb, "GET", &format!("/api/2.0/customers/{id}"))).await;
        assert_eq!(r.status, 200, "{id}: {}", r.text);
    }
    for id in &st_ids {
        assert!(id.starts_with("cus_") && id.len() == 18, "{id}");
        let r = send(common::st(&sb, "GET", &format!("/v1/customers/{id}"))).await;
        assert_eq!(r.status, 200, "{id}: {}", r.text);
        assert_eq!(r.json()["id"], json!(id));
    }
    // The seeded customer is untouched and still found by its own id.
    let r = send(fb(&sb, "GET", &format!("/v1/customers/{SEED_CUSTOMER_ID}"))).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        sb.fusebill().customer(SEED_CUSTOMER_ID).unwrap()["id"],
        json!(SEED_CUSTOMER_ID.parse::<i64>().unwrap())
    );
}
