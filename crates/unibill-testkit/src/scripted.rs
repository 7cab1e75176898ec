//! A scripted HTTP server on 127.0.0.1 for tests of how a client reads
//! answers no vendor would give on purpose (pages that promise more and
//! list nothing, headers in either reading, slow pages).

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A scripted HTTP server on 127.0.0.1: `answer` maps each request's
/// path and query to a status line, headers and a JSON body; every request
/// line is recorded. A header `X-Test-Delay-Ms` in an answer is not sent:
/// the answer waits that long instead.
pub struct Scripted {
    /// `http://127.0.0.1:PORT`, the base URL to give a client.
    pub base: String,
    /// Every request target (path and query) received, in order.
    pub seen: Arc<Mutex<Vec<String>>>,
}

/// An answer: status line (e.g. `"200 OK"`), headers and body.
pub type Answer = (&'static str, Vec<(String, String)>, Vec<u8>);

/// Starts the server on a free loopback port, on the current tokio runtime.
pub async fn scripted(answer: impl Fn(&str) -> Answer + Send + Sync + 'static) -> Scripted {
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
pub fn param(target: &str, name: &str) -> Option<String> {
    let query = target.split_once('?')?.1;
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('=').map(str::to_owned))
}
