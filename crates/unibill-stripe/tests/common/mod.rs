//! A loopback HTTP server for the client's tests: it records each
//! request whole (method, target, headers, body) and answers from a
//! script, one reply per request, or drops the connection. The testkit's
//! scripted server records request lines only, and these tests compare
//! headers (`Idempotency-Key`) across attempts.
#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use unibill_stripe::{BackendBuilder, Stripe};

/// One request as received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub target: String,
    /// Header names lower-cased.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// The form parameters, decoded, in order: the body's when there is
    /// one (a `POST`), else the query string's.
    pub fn params(&self) -> Vec<(String, String)> {
        if !self.body.is_empty() {
            return serde_urlencoded::from_bytes(&self.body).unwrap();
        }
        let query = self.target.split_once('?').map_or("", |(_, q)| q);
        serde_urlencoded::from_str(query).unwrap()
    }

    pub fn param(&self, name: &str) -> Option<String> {
        self.params()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

/// What the server does with one request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// Status, extra headers, JSON body.
    Answer(u16, Vec<(&'static str, String)>, String),
    /// Close the connection without answering.
    Drop,
}

pub fn ok(body: serde_json::Value) -> Reply {
    Reply::Answer(200, vec![], body.to_string())
}

pub fn status(code: u16, body: serde_json::Value) -> Reply {
    Reply::Answer(code, vec![], body.to_string())
}

pub struct Server {
    pub base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    script: Arc<Mutex<VecDeque<Reply>>>,
}

impl Server {
    /// Starts a server answering `script` in order (then 500s).
    pub async fn start(script: Vec<Reply>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let (log, replies) = (seen.clone(), script.clone());
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let (log, replies) = (log.clone(), replies.clone());
                tokio::spawn(async move {
                    let mut data = Vec::new();
                    let mut buf = [0u8; 8192];
                    let head_end = loop {
                        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => data.extend_from_slice(&buf[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&data[..head_end]).to_string();
                    let mut lines = head.split("\r\n");
                    let mut first = lines.next().unwrap_or_default().split(' ');
                    let method = first.next().unwrap_or_default().to_string();
                    let target = first.next().unwrap_or_default().to_string();
                    let headers: BTreeMap<String, String> = lines
                        .filter_map(|l| l.split_once(':'))
                        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                        .collect();
                    let len: usize = headers
                        .get("content-length")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    while data.len() < head_end + len {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => data.extend_from_slice(&buf[..n]),
                        }
                    }
                    let body = data[head_end..].to_vec();
                    log.lock().unwrap().push(Seen {
                        method,
                        target,
                        headers,
                        body,
                    });
                    let reply = replies.lock().unwrap().pop_front().unwrap_or(Reply::Answer(
                        500,
                        vec![],
                        r#"{"error":{"type":"api_error","message":"script exhausted"}}"#.into(),
                    ));
                    match reply {
                        Reply::Drop => drop(stream),
                        Reply::Answer(code, extra, body) => {
                            let mut out = format!(
                                "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
                                body.len()
                            );
                            for (k, v) in extra {
                                out.push_str(&format!("{k}: {v}\r\n"));
                            }
                            out.push_str("\r\n");
                            out.push_str(&body);
                            let _ = stream.write_all(out.as_bytes()).await;
                            let _ = stream.shutdown().await;
                        }
                    }
                });
            }
        });
        Server { base, seen, script }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn push(&self, reply: Reply) {
        self.script.lock().unwrap().push_back(reply);
    }

    /// A client of this server.
    pub fn client(&self) -> Stripe {
        Stripe::builder()
            .api_key("sk_test_SECRETKEY")
            .base_url(self.base.clone())
            .build()
            .unwrap()
    }
}

/// A customer answer.
pub fn customer(id: &str) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "object": "customer",
        "name": "Jenny Rosen",
        "email": "jenny.rosen@example.com",
        "phone": "+14155550100",
        "address": {"line1": "510 Townsend St", "line2": null, "city": "San Francisco",
                    "state": "CA", "postal_code": "94103", "country": "US"},
        "metadata": {"external_id": "R-1", "plan": "gold"},
        "currency": "usd"
    })
}
