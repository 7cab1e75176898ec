//! ChartMogul's customer lists read by a lookup, against scripted servers
//! on 127.0.0.1: a page that promises more but lists nothing is a decode
//! error, a lookup past the match cap is `Ambiguous` with the count, and a
//! lookup past its overall deadline stops naming the pages read.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use unibill_chartmogul::ChartMogul;
use unibill_core::reference::MAX_MATCHES;
use unibill_core::{CustomerRef, CustomerUpdater, Error, ErrorKind};
use unibill_testkit::fast_retry;

const EMAIL: &str = "shared@example.com";

/// A scripted HTTP server on 127.0.0.1: `answer` maps each request's
/// path and query to a status line, headers and a JSON body; every request
/// line is recorded. A header `X-Test-Delay-Ms` in an answer is not sent:
/// the answer waits that long instead.
struct Scripted {
    base: String,
    seen: Arc<Mutex<Vec<String>>>,
}

type Answer = (&'static str, Vec<(String, String)>, Vec<u8>);

async fn scripted(answer: impl Fn(&str) -> Answer + Send + Sync + 'static) -> Scripted {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let answer = answer.clone();
            let log = log.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&head);
                let target = text.split(' ').nth(1).unwrap_or("").to_string();
                log.lock().unwrap().push(target.clone());
                let (status, mut headers, body) = answer(&target);
                // `X-Test-Delay-Ms` is not sent: it delays the answer.
                if let Some(i) = headers.iter().position(|(k, _)| k == "X-Test-Delay-Ms") {
                    let ms: u64 = headers.remove(i).1.parse().unwrap();
                    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
                }
                let mut out = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
                    body.len()
                );
                for (k, v) in headers {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
                out.push_str("\r\n");
                let _ = stream.write_all(out.as_bytes()).await;
                let _ = stream.write_all(&body).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    Scripted { base, seen }
}

/// The value of query parameter `name` in a request target.
fn param(target: &str, name: &str) -> Option<String> {
    let query = target.split_once('?')?.1;
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('=').map(str::to_owned))
}

fn client(base: &str) -> ChartMogul {
    ChartMogul::builder()
        .api_key("k")
        .base_url(base)
        .retry(fast_retry())
        .rate_limit(None)
        .build()
        .unwrap()
}

/// A search page: customers `from..to` with `EMAIL`.
fn page(from: usize, to: usize, has_more: bool, cursor: Option<&str>) -> Vec<u8> {
    let entries: Vec<serde_json::Value> = (from..to)
        .map(|i| json!({"uuid": format!("cus_{i}"), "email": EMAIL, "name": "x"}))
        .collect();
    serde_json::to_vec(&json!({"entries": entries, "has_more": has_more, "cursor": cursor}))
        .unwrap()
}

/// `has_more: true` with an empty page: the list is cut short, so the
/// lookup fails naming the vendor's answer instead of resolving to the one
/// customer read so far.
#[tokio::test]
async fn has_more_with_an_empty_page_is_a_decode_error() {
    let server = scripted(|target| match param(target, "cursor") {
        None => ("200 OK", vec![], page(0, 1, true, Some("c1"))),
        Some(_) => ("200 OK", vec![], page(0, 0, true, Some("c2"))),
    })
    .await;
    let cm = client(&server.base);
    let e = cm.resolve(&CustomerRef::email(EMAIL)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode, "{e}");
    assert!(e.to_string().contains("`has_more: true`"), "{e}");
    assert_eq!(server.seen.lock().unwrap().len(), 2);
}

/// More matches than `MAX_MATCHES` on the first page, and more pages
/// promised: `Ambiguous` with the count and the first `MAX_MATCHES` ids,
/// and no further page read.
#[tokio::test]
async fn past_the_match_cap_is_ambiguous_with_the_count_and_stops_paging() {
    let total = MAX_MATCHES + 200;
    let server = scripted(move |_| ("200 OK", vec![], page(0, total, true, Some("c1")))).await;
    let cm = client(&server.base);
    match cm.find(&CustomerRef::email(EMAIL)).await.unwrap_err() {
        e @ Error::Ambiguous { .. } => {
            let shown = e.to_string();
            let Error::Ambiguous { matches, count, .. } = e else {
                unreachable!()
            };
            assert_eq!(count, total);
            assert_eq!(matches.len(), MAX_MATCHES);
            assert_eq!(matches[0].as_str(), "cus_0");
            assert!(shown.contains(&format!("at least {total}")), "{shown}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.seen.lock().unwrap().len(), 1);
}

/// A vendor that answers the second page slowly: the lookup stops at its
/// overall deadline with a retryable error naming the pages read.
#[tokio::test]
async fn a_lookup_stops_at_its_deadline_naming_the_pages_read() {
    let server = scripted(move |target| match param(target, "cursor") {
        None => ("200 OK", vec![], page(0, 1, true, Some("c1"))),
        Some(_) => (
            "200 OK",
            vec![("X-Test-Delay-Ms".into(), "20000".into())],
            page(1, 2, false, None),
        ),
    })
    .await;
    let cm = ChartMogul::builder()
        .api_key("k")
        .base_url(&server.base)
        .retry(fast_retry())
        .rate_limit(None)
        .lookup_deadline(Duration::from_millis(500))
        .build()
        .unwrap();
    let e = cm.find(&CustomerRef::email(EMAIL)).await.unwrap_err();
    match &e {
        Error::LookupTimeout { pages, .. } => assert_eq!(*pages, 1),
        other => panic!("{other:?}"),
    }
    assert!(e.is_retryable());
    assert!(e.to_string().contains("1 page(s) read"), "{e}");
}
