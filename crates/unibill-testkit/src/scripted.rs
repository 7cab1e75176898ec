//! A scripted HTTP server on 127.0.0.1 for tests of how a client reads
//! answers no vendor would give on purpose (pages that promise more and
//! list nothing, headers in either reading, slow pages, huge pages).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A running scripted server (it lives as long as the test process).
pub struct Scripted {
    /// `http://127.0.0.1:PORT`, the base URL to give a client.
    pub base: String,
    /// Every request line received, in order, as `METHOD target`.
    pub seen: Arc<Mutex<Vec<String>>>,
}

impl Scripted {
    /// The request lines received so far (`METHOD target`).
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    /// How many requests were not `GET`s.
    pub fn writes(&self) -> usize {
        self.seen()
            .iter()
            .filter(|l| !l.starts_with("GET "))
            .count()
    }
}

/// Starts a server on a free loopback port, on a thread and runtime of its
/// own (its allocations are not counted by [`crate::heap`]). `answer` maps
/// each request target (path and query) to a status line (e.g.
/// `"200 OK"`), headers and a body; a header `X-Test-Delay-Ms` in an answer
/// is not sent: the answer waits that long instead.
pub fn scripted<B, F>(answer: F) -> Scripted
where
    F: Fn(&str) -> (&'static str, Vec<(String, String)>, B) + Send + Sync + 'static,
    B: AsRef<[u8]> + Send + 'static,
{
    let (tx, rx) = std::sync::mpsc::channel();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        crate::heap::count_this_thread(false);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(format!("http://{}", listener.local_addr().unwrap()))
                .unwrap();
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
                    let mut words = text.split(' ');
                    let method = words.next().unwrap_or("").to_string();
                    let target = words.next().unwrap_or("").to_string();
                    log.lock().unwrap().push(format!("{method} {target}"));
                    let (status, mut headers, body) = answer(&target);
                    if let Some(i) = headers.iter().position(|(k, _)| k == "X-Test-Delay-Ms") {
                        let ms: u64 = headers.remove(i).1.parse().unwrap();
                        tokio::time::sleep(Duration::from_millis(ms)).await;
                    }
                    let body = body.as_ref();
                    let mut out = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
                        body.len()
                    );
                    for (k, v) in headers {
                        out.push_str(&format!("{k}: {v}\r\n"));
                    }
                    out.push_str("\r\n");
                    let _ = stream.write_all(out.as_bytes()).await;
                    let _ = stream.write_all(body).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
    });
    Scripted {
        base: rx.recv().unwrap(),
        seen,
    }
}

/// The value of query parameter `name` in a request target (or request
/// line).
pub fn param(target: &str, name: &str) -> Option<String> {
    let query = target.split_once('?')?.1;
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('=').map(str::to_owned))
}
