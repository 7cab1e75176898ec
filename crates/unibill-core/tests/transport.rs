//! Integration tests of the shared HTTP transport against a scripted
//! HTTP/1.1 server on 127.0.0.1.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;
use reqwest::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use unibill_core::transport::{
    Auth, Idempotency, RateLimit, Request, Response, RetryConfig, Transport, TransportConfig,
};
use unibill_core::{BackendKind, Error};

// ---------------------------------------------------------------------------
// Scripted server
// ---------------------------------------------------------------------------

/// What the server does with one request.
#[derive(Clone, Debug)]
struct Reply {
    delay: Duration,
    bytes: Vec<u8>,
    /// Close the connection after writing.
    close: bool,
    /// After writing, keep the connection open and silent until the client leaves.
    hang: bool,
}

impl Reply {
    fn raw(bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            delay: Duration::ZERO,
            bytes: bytes.into(),
            close: false,
            hang: false,
        }
    }
    fn close(mut self) -> Self {
        self.close = true;
        self
    }
    fn hang(mut self) -> Self {
        self.hang = true;
        self
    }
    fn delayed(mut self, d: Duration) -> Self {
        self.delay = d;
        self
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Whatever",
    }
}

/// A complete response with `Content-Length`.
fn reply(status: u16, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut out = format!(
        "HTTP/1.1 {status} {}\r\nContent-Length: {}\r\n",
        reason(status),
        body.len()
    );
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(body);
    Reply::raw(out)
}

fn ok() -> Reply {
    reply(
        200,
        &[("Content-Type", "application/json")],
        r#"{"ok":true}"#,
    )
}

fn status(code: u16) -> Reply {
    reply(code, &[], "")
}

/// A chunked response made of `chunks`, terminated unless `finish` is false.
fn chunked(chunks: &[Vec<u8>], finish: bool) -> Reply {
    let mut out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for chunk in chunks {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    if finish {
        out.extend_from_slice(b"0\r\n\r\n");
    }
    Reply::raw(out)
}

#[derive(Clone, Debug)]
struct Recorded {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Recorded {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct State {
    script: VecDeque<Reply>,
    last: Option<Reply>,
    connections: usize,
    requests: Vec<Recorded>,
}

struct Server {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl Server {
    /// Serves `script` in order, one reply per request; the last reply repeats.
    async fn start(script: Vec<Reply>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(Mutex::new(State {
            script: script.into(),
            ..State::default()
        }));
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                shared.lock().unwrap().connections += 1;
                tokio::spawn(serve(stream, shared.clone()));
            }
        });
        Server { addr, state }
    }

    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    fn request_count(&self) -> usize {
        self.state.lock().unwrap().requests.len()
    }

    fn connections(&self) -> usize {
        self.state.lock().unwrap().connections
    }
}

/// Appends the next bytes the client sends to `buf`; false once it has closed or failed.
async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 4096];
    match stream.read(&mut chunk).await {
        Ok(0) | Err(_) => false,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            true
        }
    }
}

async fn serve(mut stream: TcpStream, state: Arc<Mutex<State>>) {
    let mut buf = Vec::new();
    loop {
        // Read the request head.
        let head_end = loop {
            if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break pos + 4;
            }
            if !read_more(&mut stream, &mut buf).await {
                return;
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let mut first = lines.next().unwrap_or_default().split(' ');
        let method = first.next().unwrap_or_default().to_owned();
        let target = first.next().unwrap_or_default().to_owned();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let length: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + length {
            if !read_more(&mut stream, &mut buf).await {
                return;
            }
        }
        let body = buf[head_end..head_end + length].to_vec();
        buf.drain(..head_end + length);

        let reply = {
            let mut st = state.lock().unwrap();
            st.requests.push(Recorded {
                method,
                target,
                headers,
                body,
            });
            let next = st
                .script
                .pop_front()
                .or_else(|| st.last.clone())
                .unwrap_or_else(ok);
            st.last = Some(next.clone());
            next
        };
        tokio::time::sleep(reply.delay).await;
        if stream.write_all(&reply.bytes).await.is_err() {
            return;
        }
        let _ = stream.flush().await;
        if reply.close {
            let _ = stream.shutdown().await;
            return;
        }
        if reply.hang {
            let mut sink = [0u8; 1024];
            while let Ok(n) = stream.read(&mut sink).await {
                if n == 0 {
                    break;
                }
            }
            return;
        }
    }
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

const KIND: BackendKind = BackendKind::new("testvendor");

/// Fast retries: backoff of at most a few milliseconds.
fn fast() -> TransportConfig {
    TransportConfig {
        retry: RetryConfig {
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
            ..RetryConfig::default()
        },
        request_timeout: Duration::from_secs(5),
        ..TransportConfig::default()
    }
}

fn transport(server: &Server, config: TransportConfig) -> Transport {
    Transport::new(KIND, &server.base(), Auth::None, config, None).expect("transport")
}

fn with_attempts(max_attempts: u32) -> TransportConfig {
    let mut config = fast();
    config.retry.max_attempts = max_attempts;
    config
}

/// `fast()` with a rate limit of `requests` per 300 ms.
fn rate_limited(requests: u32) -> TransportConfig {
    TransportConfig {
        rate_limit: Some(RateLimit {
            requests,
            per: Duration::from_millis(300),
        }),
        ..fast()
    }
}

/// Asserts that at least `at_least` has passed since `start`.
fn assert_waited(start: Instant, at_least: Duration) {
    let elapsed = start.elapsed();
    assert!(elapsed >= at_least, "{elapsed:?}");
}

fn is_transport(err: &Error) -> bool {
    matches!(err, Error::Transport { .. })
}

// ---------------------------------------------------------------------------
// Retry policy
// ---------------------------------------------------------------------------

#[tokio::test]
async fn post_is_retried_on_429() {
    let server = Server::start(vec![reply(429, &[("Retry-After", "0")], ""), ok()]).await;
    let t = transport(&server, fast());
    let res = t
        .send(Request::new(Method::POST, "/v1/things").json(&serde_json::json!({"a": 1})))
        .await
        .unwrap();
    assert_eq!(res.status, 200);
    assert_eq!(res.attempts, 2);
    assert_eq!(server.request_count(), 2);
    assert_eq!(t.retries(), 1);
    // The body was sent again, unchanged.
    let reqs = server.requests();
    assert_eq!(reqs[0].body, br#"{"a":1}"#);
    assert_eq!(reqs[1].body, br#"{"a":1}"#);
}

#[tokio::test]
async fn post_is_retried_on_503() {
    let server = Server::start(vec![status(503), ok()]).await;
    let t = transport(&server, fast());
    let res = t
        .send(Request::new(Method::POST, "/v1/things"))
        .await
        .unwrap();
    assert_eq!((res.status, res.attempts), (200, 2));
    assert_eq!(server.request_count(), 2);
}

#[tokio::test]
async fn other_5xx_retried_for_idempotent_methods_only() {
    for code in [500u16, 502, 504] {
        for method in [Method::GET, Method::PUT, Method::PATCH, Method::DELETE] {
            let server = Server::start(vec![status(code), ok()]).await;
            let t = transport(&server, fast());
            let res = t.send(Request::new(method.clone(), "/x")).await.unwrap();
            assert_eq!((res.status, res.attempts), (200, 2), "{method} {code}");
            assert_eq!(server.request_count(), 2, "{method} {code}");
        }
        let server = Server::start(vec![status(code), ok()]).await;
        let t = transport(&server, fast());
        let res = t.send(Request::new(Method::POST, "/x")).await.unwrap();
        assert_eq!((res.status, res.attempts), (code, 1), "POST {code}");
        assert_eq!(server.request_count(), 1, "POST {code}");
        assert_eq!(t.retries(), 0);
    }
}

#[tokio::test]
async fn retry_safe_post_is_retried_on_500() {
    let server = Server::start(vec![status(500), ok()]).await;
    let t = transport(&server, fast());
    let res = t
        .send(Request::new(Method::POST, "/tags").idempotency(Idempotency::RetrySafe))
        .await
        .unwrap();
    assert_eq!((res.status, res.attempts), (200, 2));
    assert_eq!(server.request_count(), 2);

    // And an idempotent request can be downgraded.
    let server = Server::start(vec![status(500), ok()]).await;
    let t = transport(&server, fast());
    let res = t
        .send(Request::new(Method::PUT, "/x").idempotency(Idempotency::NonIdempotent))
        .await
        .unwrap();
    assert_eq!((res.status, res.attempts), (500, 1));
}

#[tokio::test]
async fn client_errors_and_501_are_never_retried() {
    for code in [400u16, 401, 404, 409, 422, 501] {
        let server = Server::start(vec![reply(code, &[], r#"{"error":"no"}"#), ok()]).await;
        let t = transport(&server, fast());
        let res = t.send(Request::new(Method::GET, "/x")).await.unwrap();
        assert_eq!((res.status, res.attempts), (code, 1));
        assert_eq!(String::from_utf8_lossy(&res.body), r#"{"error":"no"}"#);
        assert!(!res.is_success());
        assert_eq!(server.request_count(), 1, "{code}");
        assert_eq!(t.retries(), 0);
    }
}

#[tokio::test]
async fn redirects_are_an_error_naming_the_status_not_followed() {
    for status in [301, 302, 303, 307, 308] {
        let server = Server::start(vec![reply(
            status,
            &[("Location", "https://elsewhere.example/next?token=secret")],
            "",
        )])
        .await;
        let t = transport(&server, fast());
        let err = t.send(Request::new(Method::PUT, "/x")).await.unwrap_err();
        match &err {
            Error::Vendor { status: s, .. } => assert_eq!(*s, status),
            other => panic!("{status}: {other:?}"),
        }
        let shown = err.to_string();
        assert!(shown.contains("redirect"), "{shown}");
        assert!(shown.contains(&format!("HTTP {status}")), "{shown}");
        assert!(shown.contains("https://elsewhere.example/next"), "{shown}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(!err.is_retryable());
        assert_eq!(server.request_count(), 1);
    }
}

/// A caller's client builder that asks to follow redirects (reqwest's
/// default policy follows up to 10) still follows none: the 307 of a `PUT`
/// is an error and the place it points to receives nothing, not the body
/// again; a redirect within the origin is not followed either.
#[tokio::test]
async fn a_callers_client_builder_never_follows_a_redirect() {
    for status in [307, 308] {
        let elsewhere = Server::start(vec![ok()]).await;
        let target = format!("{}/stolen", elsewhere.base());
        let server = Server::start(vec![reply(status, &[("Location", target.as_str())], "")]).await;
        let builder = reqwest::Client::builder().redirect(reqwest::redirect::Policy::limited(10));
        let t = Transport::new(KIND, &server.base(), Auth::None, fast(), Some(builder)).unwrap();
        let err = t
            .send(Request::new(Method::PUT, "/x").json(&serde_json::json!({"a": 1})))
            .await
            .unwrap_err();
        let shown = err.to_string();
        assert!(
            matches!(err, Error::Vendor { status: s, .. } if s == status),
            "{err:?}"
        );
        assert!(shown.contains("redirect"), "{shown}");
        assert!(!err.is_retryable());
        assert_eq!(server.request_count(), 1);
        assert_eq!(
            elsewhere.request_count(),
            0,
            "{status}: the body went elsewhere"
        );
    }

    let server = Server::start(vec![reply(307, &[("Location", "/y")], ""), ok()]).await;
    let t = Transport::new(
        KIND,
        &server.base(),
        Auth::None,
        fast(),
        Some(reqwest::Client::builder()),
    )
    .unwrap();
    let err = t.send(Request::new(Method::GET, "/x")).await.unwrap_err();
    assert!(matches!(err, Error::Vendor { status: 307, .. }), "{err:?}");
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn connection_refused_is_retried_even_for_post() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let t = Transport::new(
        KIND,
        &format!("http://127.0.0.1:{port}"),
        Auth::None,
        with_attempts(3),
        None,
    )
    .unwrap();
    let err = t.send(Request::new(Method::POST, "/x")).await.unwrap_err();
    match &err {
        Error::Transport {
            source, backend, ..
        } => {
            assert!(source.is_connect(), "{source:?}");
            assert_eq!(*backend, KIND);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(t.retries(), 2, "3 attempts = 2 retries");
}

#[tokio::test]
async fn dropped_connection_mid_response_retried_for_get_only() {
    let partial = || Reply::raw("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"partial").close();

    let server = Server::start(vec![partial(), ok()]).await;
    let t = transport(&server, fast());
    let res = t.send(Request::new(Method::GET, "/x")).await.unwrap();
    assert_eq!((res.status, res.attempts), (200, 2));
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&res.body).unwrap(),
        serde_json::json!({"ok": true})
    );
    assert_eq!(server.request_count(), 2);
    assert_eq!(server.connections(), 2);

    let server = Server::start(vec![partial(), ok()]).await;
    let t = transport(&server, fast());
    let err = t.send(Request::new(Method::POST, "/x")).await.unwrap_err();
    assert!(is_transport(&err), "{err:?}");
    assert_eq!(server.request_count(), 1);
    assert_eq!(t.retries(), 0);
    // A body cut short is a transport fault: the caller may retry.
    assert!(err.is_retryable(), "{err:?}");
    let shown = err.to_string();
    assert!(shown.contains("response body"), "{shown}");
    assert!(!shown.contains("127.0.0.1"), "{shown}");
}

#[tokio::test]
async fn transport_errors_say_why() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let t = Transport::new(
        KIND,
        &format!("http://127.0.0.1:{port}"),
        Auth::KeyAsUser("sekret-key".into()),
        with_attempts(1),
        None,
    )
    .unwrap();
    let shown = t
        .send(Request::new(Method::GET, "/x"))
        .await
        .unwrap_err()
        .to_string();
    assert!(shown.contains("connection refused"), "{shown}");
    assert!(!shown.contains("sekret"), "{shown}");

    let server = Server::start(vec![ok().delayed(Duration::from_secs(3))]).await;
    let config = TransportConfig {
        request_timeout: Duration::from_millis(200),
        ..with_attempts(1)
    };
    let t = transport(&server, config);
    let shown = t
        .send(Request::new(Method::GET, "/x"))
        .await
        .unwrap_err()
        .to_string();
    assert!(shown.contains("timed out after 0.2 s"), "{shown}");

    let t = Transport::new(
        KIND,
        "https://unibill-test.invalid",
        Auth::None,
        with_attempts(1),
        None,
    )
    .unwrap();
    let shown = t
        .send(Request::new(Method::GET, "/x"))
        .await
        .unwrap_err()
        .to_string();
    assert!(shown.contains("DNS"), "{shown}");
}

#[tokio::test]
async fn connection_closed_without_answer_retried_for_get_only() {
    let server = Server::start(vec![Reply::raw("").close(), ok()]).await;
    let t = transport(&server, fast());
    let res = t.send(Request::new(Method::GET, "/x")).await.unwrap();
    assert_eq!((res.status, res.attempts), (200, 2));
    assert_eq!(server.request_count(), 2);

    let server = Server::start(vec![Reply::raw("").close(), ok()]).await;
    let t = transport(&server, fast());
    let err = t.send(Request::new(Method::POST, "/x")).await.unwrap_err();
    assert!(is_transport(&err), "{err:?}");
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn retry_after_seconds_is_honoured() {
    let server = Server::start(vec![reply(429, &[("Retry-After", "1")], ""), ok()]).await;
    let t = transport(&server, fast());
    let start = Instant::now();
    let res = t.send(Request::new(Method::POST, "/x")).await.unwrap();
    assert_eq!((res.status, res.attempts), (200, 2));
    assert_waited(start, Duration::from_millis(990));
}

fn http_date(at: SystemTime) -> String {
    let at: chrono::DateTime<chrono::Utc> = at.into();
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[tokio::test]
async fn retry_after_http_date_is_honoured() {
    // Two seconds ahead, truncated to the second: at least one second away.
    let date = http_date(SystemTime::now() + Duration::from_secs(2));
    let server = Server::start(vec![reply(503, &[("Retry-After", &date)], ""), ok()]).await;
    let t = transport(&server, fast());
    let start = Instant::now();
    let res = t.send(Request::new(Method::GET, "/x")).await.unwrap();
    assert_eq!((res.status, res.attempts), (200, 2));
    assert_waited(start, Duration::from_millis(900));
}

#[tokio::test]
async fn retry_after_above_cap_returns_the_429_at_once() {
    // The deadline (60 s) would allow the wait: only the cap stops it.
    let mut config = fast();
    config.retry.max_retry_after = Duration::from_secs(1);
    let server = Server::start(vec![reply(429, &[("Retry-After", "2")], ""), ok()]).await;
    let t = transport(&server, config.clone());
    let res = t.send(Request::new(Method::GET, "/x")).await.unwrap();
    assert_eq!((res.status, res.attempts), (429, 1));
    assert_eq!(res.retry_after(), Some(Duration::from_secs(2)));
    assert_eq!(server.request_count(), 1);
    assert_eq!(t.retries(), 0);

    // The same for a date 3 s ahead (this also proves the date was
    // understood: unparsed, it would have fallen back to a quick backoff).
    let date = http_date(SystemTime::now() + Duration::from_secs(3));
    let server = Server::start(vec![reply(429, &[("Retry-After", &date)], ""), ok()]).await;
    let t = transport(&server, config);
    let res = t.send(Request::new(Method::GET, "/x")).await.unwrap();
    assert_eq!((res.status, res.attempts), (429, 1));
    assert_eq!(server.request_count(), 1);
    let wait = res.retry_after().unwrap();
    assert!(
        wait > Duration::from_secs(1) && wait <= Duration::from_secs(3),
        "{wait:?}"
    );
}

fn wait_ms_hint(headers: &HeaderMap) -> Option<Duration> {
    let ms = headers.get("x-wait-ms")?.to_str().ok()?.parse().ok()?;
    Some(Duration::from_millis(ms))
}

#[tokio::test]
async fn retry_hint_is_used_for_429_without_retry_after() {
    let config = TransportConfig {
        retry_hint: Some(wait_ms_hint),
        ..fast()
    };
    let server = Server::start(vec![reply(429, &[("X-Wait-Ms", "400")], ""), ok()]).await;
    let t = transport(&server, config.clone());
    let start = Instant::now();
    let res = t.send(Request::new(Method::POST, "/x")).await.unwrap();
    assert_eq!((res.status, res.attempts), (200, 2));
    // Backoff alone would have waited at most 5 ms.
    assert_waited(start, Duration::from_millis(390));

    // A hint beyond max_retry_after returns the 429 at once.
    let mut config = config;
    config.retry.max_retry_after = Duration::from_millis(100);
    let server = Server::start(vec![reply(429, &[("X-Wait-Ms", "300")], ""), ok()]).await;
    let t = transport(&server, config);
    let res = t.send(Request::new(Method::POST, "/x")).await.unwrap();
    assert_eq!((res.status, res.attempts), (429, 1));
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn max_attempts_is_respected() {
    let server = Server::start(vec![status(503)]).await;
    let t = transport(&server, with_attempts(3));
    let res = t.send(Request::new(Method::GET, "/x")).await.unwrap();
    assert_eq!((res.status, res.attempts), (503, 3));
    assert_eq!(server.request_count(), 3);
    assert_eq!(t.retries(), 2);

    let server = Server::start(vec![status(503)]).await;
    let config = TransportConfig {
        retry: RetryConfig {
            max_attempts: 1,
            ..RetryConfig::default()
        },
        ..fast()
    };
    let t = transport(&server, config);
    let res = t.send(Request::new(Method::GET, "/x")).await.unwrap();
    assert_eq!((res.status, res.attempts), (503, 1));
    assert_eq!(server.request_count(), 1);
    assert_eq!(t.retries(), 0);
}

#[tokio::test]
async fn deadline_is_respected() {
    // Each 429 asks for 1 s; with a 1.5 s budget only one retry fits.
    let server = Server::start(vec![reply(429, &[("Retry-After", "1")], "")]).await;
    let mut config = with_attempts(10);
    config.retry.deadline = Duration::from_millis(1500);
    let t = transport(&server, config);
    let res = t.send(Request::new(Method::GET, "/x")).await.unwrap();
    assert_eq!((res.status, res.attempts), (429, 2));
    assert_eq!(server.request_count(), 2);
    assert_eq!(t.retries(), 1);
}

#[test]
fn backoff_ceiling_doubles_up_to_max_backoff() {
    let retry = RetryConfig::default();
    let ms = Duration::from_millis;
    assert_eq!(retry.backoff_ceiling(0), ms(100));
    assert_eq!(retry.backoff_ceiling(1), ms(200));
    assert_eq!(retry.backoff_ceiling(5), ms(3200));
    assert_eq!(retry.backoff_ceiling(6), ms(5000));
    assert_eq!(retry.backoff_ceiling(1000), ms(5000));
}

// ---------------------------------------------------------------------------
// Timeouts and body cap
// ---------------------------------------------------------------------------

#[tokio::test]
async fn per_attempt_timeout() {
    let slow = || ok().delayed(Duration::from_secs(3));
    let config = TransportConfig {
        request_timeout: Duration::from_millis(200),
        retry: RetryConfig {
            max_attempts: 1,
            ..RetryConfig::default()
        },
        ..fast()
    };
    let server = Server::start(vec![slow()]).await;
    let t = transport(&server, config.clone());
    let err = t.send(Request::new(Method::GET, "/x")).await.unwrap_err();
    match &err {
        Error::Transport { source, .. } => assert!(source.is_timeout(), "{source:?}"),
        other => panic!("unexpected {other:?}"),
    }

    // A timed-out GET is retried; a timed-out POST is not.
    let config = TransportConfig {
        request_timeout: Duration::from_millis(200),
        ..with_attempts(2)
    };
    let server = Server::start(vec![slow()]).await;
    let t = transport(&server, config.clone());
    assert!(is_transport(
        &t.send(Request::new(Method::GET, "/x")).await.unwrap_err()
    ));
    assert_eq!(server.request_count(), 2);
    let server = Server::start(vec![slow()]).await;
    let t = transport(&server, config);
    assert!(is_transport(
        &t.send(Request::new(Method::POST, "/x")).await.unwrap_err()
    ));
    assert_eq!(server.request_count(), 1);
}

fn capped(limit: usize) -> TransportConfig {
    TransportConfig {
        max_response_bytes: limit,
        ..fast()
    }
}

#[tokio::test]
async fn body_cap_by_content_length_refuses_up_front() {
    // Announces 2000 bytes and sends none: reading would hang until the timeout.
    let server = Server::start(vec![Reply::raw(
        "HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n",
    )
    .hang()])
    .await;
    let t = transport(&server, capped(1000));
    let err = t.send(Request::new(Method::GET, "/x")).await.unwrap_err();
    assert!(
        matches!(err, Error::ResponseTooLarge { limit: 1000, backend } if backend == KIND),
        "{err:?}"
    );
    assert_eq!(server.request_count(), 1, "not retried");

    // Exactly at the cap is fine.
    let body = "x".repeat(1000);
    let server = Server::start(vec![reply(200, &[], &body)]).await;
    let t = transport(&server, capped(1000));
    assert_eq!(
        t.send(Request::new(Method::GET, "/x"))
            .await
            .unwrap()
            .body
            .len(),
        1000
    );
}

#[tokio::test]
async fn body_cap_while_streaming_stops_early() {
    // 4 x 300 bytes, then the stream stays open: only stopping at the cap
    // (rather than reading to the end) can answer before the timeout.
    let chunks = vec![vec![b'a'; 300]; 4];
    let server = Server::start(vec![chunked(&chunks, false).hang()]).await;
    let t = transport(&server, capped(1000));
    let err = t.send(Request::new(Method::GET, "/x")).await.unwrap_err();
    assert!(
        matches!(err, Error::ResponseTooLarge { limit: 1000, .. }),
        "{err:?}"
    );

    let chunks = vec![vec![b'b'; 250]; 4];
    let server = Server::start(vec![chunked(&chunks, true)]).await;
    let t = transport(&server, capped(1000));
    let res = t.send(Request::new(Method::GET, "/x")).await.unwrap();
    assert_eq!(res.body.len(), 1000);
    assert!(res.body.iter().all(|b| *b == b'b'));
}

#[tokio::test]
async fn declared_length_does_not_size_the_buffer_up_front() {
    // With no practical cap, a response announcing an absurd length and
    // sending nothing must fail as a short body, not by reserving that
    // much memory before reading a byte.
    let server = Server::start(vec![Reply::raw(
        "HTTP/1.1 200 OK\r\nContent-Length: 10000000000000000000\r\n\r\nabc",
    )
    .close()])
    .await;
    let config = TransportConfig {
        retry: RetryConfig {
            max_attempts: 1,
            ..RetryConfig::default()
        },
        ..capped(usize::MAX)
    };
    let t = transport(&server, config);
    let err = t.send(Request::new(Method::GET, "/x")).await.unwrap_err();
    assert!(is_transport(&err), "{err:?}");
}

// ---------------------------------------------------------------------------
// URLs and paths
// ---------------------------------------------------------------------------

#[test]
fn plain_http_only_for_loopback() {
    let new = |url: &str| Transport::new(KIND, url, Auth::None, TransportConfig::default(), None);
    for bad in [
        "http://example.com",
        "http://localhost.example.com",
        "http://10.0.0.1:8080",
        "ftp://example.com",
        "https://example.com/?a=1",
        "https://example.com/#frag",
        "example.com",
    ] {
        match new(bad) {
            Err(Error::Config { field, .. }) => assert_eq!(field, "base_url", "{bad}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
    for good in [
        "http://127.0.0.1",
        "http://127.0.0.1:8080/",
        "http://127.1.2.3",
        "http://localhost:3000",
        "http://[::1]:3000",
        "https://example.com",
        "https://api.chartmogul.com/v1/",
    ] {
        assert!(new(good).is_ok(), "{good}");
    }
    assert_eq!(
        new("https://api.chartmogul.com/v1/").unwrap().base_url(),
        "https://api.chartmogul.com/v1"
    );
}

#[test]
fn credentials_in_base_url_are_refused_without_echo() {
    let err = Transport::new(
        KIND,
        "https://user:hunter2@example.com",
        Auth::None,
        TransportConfig::default(),
        None,
    )
    .unwrap_err();
    assert!(matches!(&err, Error::Config { field, .. } if field == "base_url"));
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

#[tokio::test]
async fn base_path_prefix_is_kept() {
    let server = Server::start(vec![ok()]).await;
    let base = format!("{}/install/api/", server.base());
    let t = Transport::new(KIND, &base, Auth::None, fast(), None).unwrap();
    assert_eq!(t.base_url(), format!("{}/install/api", server.base()));
    let path = t.path(&["v1", "customers", "42"]).unwrap();
    assert_eq!(
        t.url(&path),
        format!("{}/install/api/v1/customers/42", server.base())
    );
    t.send(Request::new(Method::GET, path)).await.unwrap();
    assert_eq!(server.requests()[0].target, "/install/api/v1/customers/42");
}

#[tokio::test]
async fn ids_are_percent_encoded_into_one_segment() {
    let server = Server::start(vec![ok()]).await;
    let t = transport(&server, fast());
    let cases = [
        ("a/../b", "/v1/customers/a%2F..%2Fb"),
        ("jöhn", "/v1/customers/j%C3%B6hn"),
        ("?#", "/v1/customers/%3F%23"),
        ("%2e%2e%2f", "/v1/customers/%252e%252e%252f"),
        ("a b+c&d=e", "/v1/customers/a%20b%2Bc%26d%3De"),
        ("cus_1-2.3~4", "/v1/customers/cus_1-2.3~4"),
    ];
    for (id, want) in cases {
        let path = t.path(&["v1", "customers", id]).unwrap();
        assert_eq!(path, want, "{id:?}");
        t.send(Request::new(Method::GET, path)).await.unwrap();
    }
    // The server receives each path exactly as encoded: no normalisation.
    let targets: Vec<String> = server.requests().into_iter().map(|r| r.target).collect();
    let wanted: Vec<&str> = cases.iter().map(|(_, w)| *w).collect();
    assert_eq!(targets, wanted);

    for bad in ["", ".", "..", "%2e%2e", "%2E%2e", "%2e", ".%2E"] {
        match t.path(&["v1", "customers", bad]) {
            Err(Error::Validation { field, .. }) => assert_eq!(field, "id", "{bad:?}"),
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    assert_eq!(
        server.request_count(),
        cases.len(),
        "nothing sent for refused ids"
    );
}

// ---------------------------------------------------------------------------
// Headers, auth and secrets
// ---------------------------------------------------------------------------

/// Asserts the `Authorization` header a request sent with `auth` carries.
async fn assert_auth_header(auth: Auth, want: Option<&str>) {
    let server = Server::start(vec![ok()]).await;
    let t = Transport::new(KIND, &server.base(), auth, fast(), None).unwrap();
    t.send(Request::new(Method::GET, "/x")).await.unwrap();
    assert_eq!(server.requests()[0].header("authorization"), want);
}

#[tokio::test]
async fn auth_headers_are_exact() {
    // ChartMogul: the key as user name, empty password: base64("key:").
    assert_auth_header(Auth::KeyAsUser("key".into()), Some("Basic a2V5Og==")).await;
    // Fusebill: the key exactly as issued, not encoded again.
    assert_auth_header(
        Auth::PreEncoded("MDpGdXNlYmlsbEtleQ==".into()),
        Some("Basic MDpGdXNlYmlsbEtleQ=="),
    )
    .await;
    // Everlytic: username:apikey.
    assert_auth_header(
        Auth::Basic {
            username: "user".into(),
            password: "pass".into(),
        },
        Some("Basic dXNlcjpwYXNz"),
    )
    .await;
    assert_auth_header(Auth::Bearer("tok".into()), Some("Bearer tok")).await;
    assert_auth_header(Auth::None, None).await;
}

#[tokio::test]
async fn standard_headers_and_json_body() {
    let server = Server::start(vec![ok()]).await;
    let t = transport(&server, fast());
    let body = serde_json::json!({"name": "Ada", "n": 1});
    let req = Request::new(Method::PUT, "/v1/customers")
        .json(&body)
        .header("x-request-id", "r-1");
    let res = t.send(req).await.unwrap();
    assert!(res.is_success());
    let got = &server.requests()[0];
    assert_eq!(got.method, "PUT");
    assert_eq!(got.header("accept"), Some("application/json"));
    assert_eq!(got.header("content-type"), Some("application/json"));
    assert_eq!(got.header("x-request-id"), Some("r-1"));
    let ua = format!("unibill/{}", env!("CARGO_PKG_VERSION"));
    assert_eq!(got.header("user-agent"), Some(ua.as_str()));
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&got.body).unwrap(),
        body
    );

    // No body: no Content-Type.
    t.send(Request::new(Method::GET, "/x")).await.unwrap();
    assert_eq!(server.requests()[1].header("content-type"), None);
}

#[tokio::test]
async fn a_form_body_goes_as_sent_with_its_content_type() {
    let server = Server::start(vec![ok()]).await;
    let t = transport(&server, fast());
    let req =
        Request::new(Method::POST, "/v1/customers/cus_1").form("name=Ada&address%5Bcity%5D=Paris");
    t.send(req).await.unwrap();
    let got = &server.requests()[0];
    assert_eq!(
        got.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(&got.body[..], b"name=Ada&address%5Bcity%5D=Paris");
}

#[tokio::test]
async fn invalid_extra_header_fails_before_sending() {
    let server = Server::start(vec![ok()]).await;
    let t = transport(&server, fast());
    let err = t
        .send(Request::new(Method::GET, "/x").header("x-bad", "a\r\nb"))
        .await
        .unwrap_err();
    assert!(is_transport(&err), "{err:?}");
    assert_eq!(server.request_count(), 0);
}

#[tokio::test]
async fn secrets_never_appear_in_debug_or_errors() {
    const SECRET: &str = "sk_live_SUPERSECRET";
    let auths = [
        Auth::Basic {
            username: "acme".into(),
            password: SECRET.into(),
        },
        Auth::KeyAsUser(SECRET.into()),
        Auth::PreEncoded(SECRET.into()),
        Auth::Bearer(SECRET.into()),
    ];
    assert_eq!(
        format!("{:?}", auths[0]),
        r#"Basic { username: "acme", password: "***" }"#
    );
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    for auth in auths {
        let shown = format!("{auth:?} {:#?}", auth.clone());
        assert!(
            !shown.contains(SECRET) && !shown.contains("SUPERSECRET"),
            "{shown}"
        );
        let config = TransportConfig {
            retry: RetryConfig {
                max_attempts: 1,
                ..RetryConfig::default()
            },
            ..fast()
        };
        let t = Transport::new(
            KIND,
            &format!("http://127.0.0.1:{port}"),
            auth,
            config.clone(),
            None,
        )
        .unwrap();
        let shown = format!("{t:?} {t:#?} {config:?}");
        assert!(!shown.contains("SUPERSECRET"), "{shown}");
        assert!(shown.contains("***"), "{shown}");
        let err = t.send(Request::new(Method::GET, "/x")).await.unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("SUPERSECRET"), "{shown}");
        // The base64 form of the secret must not leak either.
        assert!(!shown.contains("c2tfbGl2ZV9TVVBFUlNFQ1JFVD"), "{shown}");
    }
    // A key unusable in a header is refused without being echoed.
    let err = Transport::new(
        KIND,
        "https://example.com",
        Auth::PreEncoded("SUPERSECRET\n".into()),
        TransportConfig::default(),
        None,
    )
    .unwrap_err();
    assert!(matches!(&err, Error::Config { field, .. } if field == "auth"));
    assert!(!format!("{err} {err:?}").contains("SUPERSECRET"));
}

// ---------------------------------------------------------------------------
// Rate limit, counters, connection reuse
// ---------------------------------------------------------------------------

#[tokio::test]
async fn rate_limiter_delays_the_request_beyond_the_window() {
    let server = Server::start(vec![ok()]).await;
    let t = transport(&server, rate_limited(2));
    let start = Instant::now();
    t.send(Request::new(Method::GET, "/1")).await.unwrap();
    t.send(Request::new(Method::GET, "/2")).await.unwrap();
    t.send(Request::new(Method::GET, "/3")).await.unwrap();
    assert_waited(start, Duration::from_millis(295));
    assert_eq!(server.request_count(), 3);
}

#[tokio::test]
async fn rate_limiter_is_shared_by_clones() {
    let server = Server::start(vec![ok()]).await;
    let a = transport(&server, rate_limited(2));
    let b = a.clone();
    let c = a.clone();
    let start = Instant::now();
    let (ra, rb, rc) = tokio::join!(
        a.send(Request::new(Method::GET, "/a")),
        b.send(Request::new(Method::GET, "/b")),
        c.send(Request::new(Method::GET, "/c"))
    );
    assert!(ra.is_ok() && rb.is_ok() && rc.is_ok());
    assert_waited(start, Duration::from_millis(295));
}

/// A shared limiter that records the budgets it is asked for and grants
/// `grants` permits, then fails as an unreachable store would.
#[derive(Debug)]
struct CountingLimiter {
    asked: Mutex<Vec<unibill_core::transport::Budget>>,
    grants: usize,
}

#[unibill_core::async_trait]
impl unibill_core::transport::RateLimiter for CountingLimiter {
    async fn acquire(&self, budget: &unibill_core::transport::Budget) -> unibill_core::Result<()> {
        let mut asked = self.asked.lock().unwrap();
        asked.push(budget.clone());
        if asked.len() > self.grants {
            return Err(Error::Limiter {
                backend: budget.backend,
                reason: "store unreachable".into(),
            });
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_shared_limiter_is_asked_for_every_attempt_and_its_failure_sends_nothing() {
    let server = Server::start(vec![status(503), ok()]).await;
    let limiter = Arc::new(CountingLimiter {
        asked: Mutex::new(Vec::new()),
        grants: 2,
    });
    let config = TransportConfig {
        rate_limiter: Some(limiter.clone()),
        ..with_attempts(3)
    };
    let t = transport(&server, rate_limited_with(config, 7));
    // The first attempt (503) and the retry (200) each take a permit.
    let res = t.send(Request::new(Method::GET, "/x")).await.unwrap();
    assert_eq!((res.status, res.attempts), (200, 2));
    {
        let asked = limiter.asked.lock().unwrap();
        assert_eq!(asked.len(), 2);
        // The budget is the transport's limit for its backend and account,
        // the account never being the key.
        assert_eq!(asked[0].limit.requests, 7);
        assert_eq!(asked[0].backend, KIND);
        assert_eq!(&asked[0].account, t.locks().account());
    }
    // No permit: the request is refused before it is sent.
    let before = server.request_count();
    let err = t.send(Request::new(Method::GET, "/y")).await.unwrap_err();
    assert!(matches!(err, Error::Limiter { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(
        server.request_count(),
        before,
        "a request went out unlimited"
    );
}

/// A permit taken ahead (`Transport::permit`) is the first attempt's:
/// `send_permitted` asks the limiter for no second one (retries still ask),
/// and a limiter that refuses the permit leaves nothing sent.
#[tokio::test]
async fn a_permit_taken_ahead_is_spent_by_the_request_not_taken_twice() {
    let server = Server::start(vec![ok(), status(503), ok()]).await;
    let limiter = Arc::new(CountingLimiter {
        asked: Mutex::new(Vec::new()),
        grants: 4,
    });
    let config = TransportConfig {
        rate_limiter: Some(limiter.clone()),
        ..with_attempts(3)
    };
    let t = transport(&server, rate_limited_with(config, 7));
    let permit = t.permit().await.unwrap();
    assert_eq!(limiter.asked.lock().unwrap().len(), 1);
    assert_eq!(server.request_count(), 0, "a permit sends nothing");
    let res = t
        .send_permitted(Request::new(Method::GET, "/a"), Some(permit))
        .await
        .unwrap();
    assert_eq!(res.status, 200);
    assert_eq!(
        limiter.asked.lock().unwrap().len(),
        1,
        "one permit, one request"
    );
    // A retry after a 503 takes its own permit as usual.
    let permit = t.permit().await.unwrap();
    let res = t
        .send_permitted(Request::new(Method::GET, "/b"), Some(permit))
        .await
        .unwrap();
    assert_eq!((res.status, res.attempts), (200, 2));
    assert_eq!(limiter.asked.lock().unwrap().len(), 3);
    // The limiter's refusal comes from `permit`, before anything is sent.
    let _ = t.permit().await.unwrap();
    let before = server.request_count();
    let err = t.permit().await.unwrap_err();
    assert!(matches!(err, Error::Limiter { .. }), "{err:?}");
    assert_eq!(server.request_count(), before);
}

fn rate_limited_with(mut config: TransportConfig, requests: u32) -> TransportConfig {
    config.rate_limit = Some(RateLimit {
        requests,
        per: Duration::from_millis(300),
    });
    config
}

#[tokio::test]
async fn retries_take_rate_limit_permits() {
    let server = Server::start(vec![status(503), ok()]).await;
    let t = transport(&server, rate_limited(1));
    let start = Instant::now();
    let res = t.send(Request::new(Method::GET, "/x")).await.unwrap();
    assert_eq!((res.status, res.attempts), (200, 2));
    assert_waited(start, Duration::from_millis(295));
}

#[test]
fn rate_limit_constructors() {
    assert_eq!(
        RateLimit::per_second(40),
        RateLimit {
            requests: 40,
            per: Duration::from_secs(1)
        }
    );
    assert_eq!(RateLimit::per_minute(1000).per, Duration::from_secs(60));
    let zero = TransportConfig {
        rate_limit: Some(RateLimit::per_second(0)),
        ..TransportConfig::default()
    };
    assert!(matches!(
        Transport::new(KIND, "https://example.com", Auth::None, zero, None),
        Err(Error::Config { field, .. }) if field == "rate_limit"
    ));
}

#[test]
fn zero_windows_and_timeouts_are_config_errors() {
    let refused = |config: TransportConfig| match Transport::new(
        KIND,
        "https://example.com",
        Auth::None,
        config,
        None,
    ) {
        Err(Error::Config { field, reason }) => (field, reason),
        other => panic!("{other:?}"),
    };
    let (field, reason) = refused(TransportConfig {
        rate_limit: Some(RateLimit {
            requests: 40,
            per: Duration::ZERO,
        }),
        ..TransportConfig::default()
    });
    assert_eq!(field, "rate_limit");
    assert!(reason.contains("window"), "{reason}");
    let (field, _) = refused(TransportConfig {
        connect_timeout: Duration::ZERO,
        ..TransportConfig::default()
    });
    assert_eq!(field, "connect_timeout");
    let (field, reason) = refused(TransportConfig {
        request_timeout: Duration::ZERO,
        ..TransportConfig::default()
    });
    assert_eq!(field, "request_timeout");
    assert!(reason.contains("longer than zero"), "{reason}");
    let (field, reason) = refused(TransportConfig {
        max_response_bytes: 0,
        ..TransportConfig::default()
    });
    assert_eq!(field, "max_response_bytes");
    assert!(reason.contains("at least 1"), "{reason}");
    let (field, reason) = refused(TransportConfig {
        user_agent: "unibill\r\nX-Injected: 1".into(),
        ..TransportConfig::default()
    });
    assert_eq!(field, "user_agent");
    assert!(!reason.contains("X-Injected"), "{reason}");
    // The smallest non-zero settings are accepted.
    let tiny = TransportConfig {
        connect_timeout: Duration::from_millis(1),
        request_timeout: Duration::from_millis(1),
        rate_limit: Some(RateLimit {
            requests: 1,
            per: Duration::from_millis(1),
        }),
        max_response_bytes: 1,
        ..TransportConfig::default()
    };
    assert!(Transport::new(KIND, "https://example.com", Auth::None, tiny, None).is_ok());
}

#[tokio::test]
async fn retry_counter_is_shared_by_clones() {
    let server = Server::start(vec![status(503), ok(), status(429), status(503), ok()]).await;
    let a = transport(&server, fast());
    let b = a.clone();
    assert_eq!(
        a.send(Request::new(Method::GET, "/1"))
            .await
            .unwrap()
            .attempts,
        2
    );
    assert_eq!(
        b.send(Request::new(Method::GET, "/2"))
            .await
            .unwrap()
            .attempts,
        3
    );
    assert_eq!(a.retries(), 3);
    assert_eq!(b.retries(), 3);
    assert_eq!(server.request_count(), 5);
}

#[tokio::test]
async fn sequential_requests_reuse_one_connection() {
    let server = Server::start(vec![ok()]).await;
    let t = transport(&server, fast());
    for i in 0..5 {
        let res = t
            .send(Request::new(Method::GET, format!("/n/{i}")))
            .await
            .unwrap();
        assert_eq!(res.status, 200);
    }
    let clone = t.clone();
    clone
        .send(Request::new(Method::GET, "/clone"))
        .await
        .unwrap();
    assert_eq!(server.request_count(), 6);
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn supplied_client_builder_is_used() {
    let server = Server::start(vec![ok()]).await;
    let client = reqwest::Client::builder().user_agent("custom/1");
    let t = Transport::new(
        KIND,
        &server.base(),
        Auth::KeyAsUser("k".into()),
        fast(),
        Some(client),
    )
    .unwrap();
    t.send(Request::new(Method::GET, "/x")).await.unwrap();
    let got = &server.requests()[0];
    assert_eq!(got.header("user-agent"), Some("custom/1"));
    assert_eq!(got.header("authorization"), Some("Basic azo="));
    assert_eq!(got.header("accept"), Some("application/json"));
}

// ---------------------------------------------------------------------------
// Response helpers
// ---------------------------------------------------------------------------

fn response_with(headers: &[(&'static str, &str)], body: &'static [u8]) -> Response {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.insert(*name, value.parse().unwrap());
    }
    Response {
        status: 200,
        headers: map,
        body: bytes::Bytes::from_static(body),
        attempts: 1,
    }
}

#[test]
fn response_helpers() {
    let res = response_with(&[], b"{\"a\":[1,2]}\xff");
    assert!(res.is_success());
    assert!(serde_json::from_slice::<serde_json::Value>(&res.body).is_err());
    assert_eq!(String::from_utf8_lossy(&res.body), "{\"a\":[1,2]}\u{fffd}");
    assert_eq!(res.retry_after(), None);

    let s = Duration::from_secs;
    assert_eq!(
        response_with(&[("retry-after", "7")], b"").retry_after(),
        Some(s(7))
    );
    assert_eq!(
        response_with(&[("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT")], b"").retry_after(),
        Some(s(0)),
        "a past date means now"
    );
    let date = http_date(SystemTime::now() + s(120));
    let wait = response_with(&[("retry-after", &date)], b"")
        .retry_after()
        .unwrap();
    assert!(wait > s(115) && wait <= s(120), "{wait:?}");
    assert_eq!(
        response_with(&[("retry-after", "soon")], b"").retry_after(),
        None
    );
    let debug = format!(
        "{:?}",
        response_with(&[("set-cookie", "session=abc")], b"secret body")
    );
    assert!(
        !debug.contains("abc") && !debug.contains("secret body"),
        "{debug}"
    );
    let mut res = response_with(&[], b"");
    for (code, success) in [
        (199, false),
        (200, true),
        (204, true),
        (299, true),
        (300, false),
        (404, false),
    ] {
        res.status = code;
        assert_eq!(res.is_success(), success, "{code}");
    }
}

/// The account a transport's locks are scoped to follows its
/// `AccountScope`: spellings of one base URL never split it, the key alone
/// decides under `Credentials`, the user (not the key) under
/// `BaseUrl`, and a named account joins anything.
#[test]
fn the_account_follows_the_scope_and_the_name() {
    use unibill_core::lock::{AccountId, AccountScope};
    let account =
        |url: &str, auth: Auth, scope: Option<AccountScope>, name: Option<&str>| -> AccountId {
            let config = TransportConfig {
                account_scope: scope,
                account: name.map(str::to_owned),
                ..TransportConfig::default()
            };
            Transport::new(KIND, url, auth, config, None)
                .unwrap()
                .locks()
                .account()
                .clone()
        };
    let key = |k: &str| Auth::KeyAsUser(k.to_owned().into());
    let user = |u: &str, k: &str| Auth::Basic {
        username: u.to_owned(),
        password: k.to_owned().into(),
    };
    // The default: URL and key, the URL normalised.
    let a = account("https://api.example.com", key("k1"), None, None);
    for spelling in [
        "HTTPS://API.Example.com/",
        "https://api.example.com:443",
        "https://api.example.com:443/",
    ] {
        assert_eq!(a, account(spelling, key("k1"), None, None), "{spelling}");
    }
    assert_ne!(
        a,
        account("https://proxy.example.com", key("k1"), None, None)
    );
    assert_ne!(a, account("https://api.example.com", key("k2"), None, None));
    // Credentials: any address, one key.
    let c = Some(AccountScope::Credentials);
    assert_eq!(
        account("http://127.0.0.1:8080", key("k1"), c, None),
        account("http://localhost:8080/", key("k1"), c, None)
    );
    assert_ne!(
        account("http://127.0.0.1:8080", key("k1"), c, None),
        account("http://127.0.0.1:8080", key("k2"), c, None)
    );
    // BaseUrl: a new key, or another user, of one install is one account;
    // another install is another.
    let u = Some(AccountScope::BaseUrl);
    let e = account("https://mail.example.com/x", user("acme", "k1"), u, None);
    assert_eq!(
        e,
        account(
            "https://Mail.Example.com:443/x/",
            user("acme", "k2"),
            u,
            None
        )
    );
    assert_eq!(
        e,
        account("https://mail.example.com/x", user("other", "k1"), u, None)
    );
    assert_ne!(
        e,
        account("https://mail2.example.com/x", user("acme", "k1"), u, None)
    );
    // A name joins two keys at two addresses, whatever the scope.
    assert_eq!(
        account("https://a.example", key("old"), c, Some("acme")),
        account("https://b.example", key("new"), None, Some(" acme "))
    );
    assert_ne!(
        account("https://a.example", key("k1"), c, Some("acme")),
        account("https://a.example", key("k1"), c, Some("other"))
    );
    // No account id shows the key.
    assert!(!a.to_string().contains("k1"));
}

/// Stripe's `Stripe-Should-Retry`, read by the backend's retry advice.
fn should_retry(headers: &reqwest::header::HeaderMap) -> Option<bool> {
    match headers.get("stripe-should-retry")?.to_str().ok()? {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

#[tokio::test]
async fn the_vendors_retry_advice_overrides_the_status_rules() {
    let advised = || TransportConfig {
        retry_advice: Some(should_retry),
        ..with_attempts(3)
    };
    // A 409 the vendor says to retry: retried, even on a POST.
    let server = Server::start(vec![
        reply(409, &[("Stripe-Should-Retry", "true")], "{}"),
        ok(),
    ])
    .await;
    let res = transport(&server, advised())
        .send(Request::new(Method::POST, "/v1/customers/cus_1"))
        .await
        .unwrap();
    assert_eq!((res.status, server.requests().len()), (200, 2));
    // A 500 the vendor says not to retry: returned at once, even when the
    // request could be repeated.
    let server = Server::start(vec![
        reply(500, &[("Stripe-Should-Retry", "false")], "{}"),
        ok(),
    ])
    .await;
    let res = transport(&server, advised())
        .send(Request::new(Method::GET, "/v1/customers/cus_1"))
        .await
        .unwrap();
    assert_eq!((res.status, server.requests().len()), (500, 1));
    // No advice: the status rules (a 500 on a GET is retried).
    let server = Server::start(vec![reply(500, &[], "{}"), ok()]).await;
    let res = transport(&server, advised())
        .send(Request::new(Method::GET, "/v1/customers/cus_1"))
        .await
        .unwrap();
    assert_eq!((res.status, server.requests().len()), (200, 2));
    // Without the hook the header means nothing: a 409 is not retried.
    let server = Server::start(vec![
        reply(409, &[("Stripe-Should-Retry", "true")], "{}"),
        ok(),
    ])
    .await;
    let res = transport(&server, with_attempts(3))
        .send(Request::new(Method::POST, "/v1/customers/cus_1"))
        .await
        .unwrap();
    assert_eq!((res.status, server.requests().len()), (409, 1));
}
