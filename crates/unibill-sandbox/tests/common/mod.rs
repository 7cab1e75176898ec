//! Helpers shared by the integration tests: plain reqwest calls.
#![allow(dead_code)]

use reqwest::{Client, Method, RequestBuilder};
use serde_json::Value;
use unibill_sandbox::{
    Sandbox, CHARTMOGUL_API_KEY, EVERLYTIC_API_KEY, EVERLYTIC_USERNAME, FUSEBILL_API_KEY,
    STRIPE_API_KEY,
};

pub struct Res {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Res {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap_or_default().to_string())
    }
}

pub async fn send(rb: RequestBuilder) -> Res {
    let resp = rb.send().await.expect("request failed");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("body");
    Res {
        status,
        headers,
        text,
    }
}

pub fn client() -> Client {
    Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client")
}

fn method(m: &str) -> Method {
    Method::from_bytes(m.as_bytes()).expect("method")
}

/// A ChartMogul request with valid credentials.
pub fn cm(sb: &Sandbox, m: &str, path: &str) -> RequestBuilder {
    client()
        .request(method(m), format!("{}{}", sb.chartmogul().base_url(), path))
        .basic_auth(CHARTMOGUL_API_KEY, Some(""))
}

/// A Fusebill request with valid credentials.
pub fn fb(sb: &Sandbox, m: &str, path: &str) -> RequestBuilder {
    client()
        .request(method(m), format!("{}{}", sb.fusebill().base_url(), path))
        .header("Authorization", format!("Basic {FUSEBILL_API_KEY}"))
}

/// An Everlytic request with valid credentials.
pub fn ev(sb: &Sandbox, m: &str, path: &str) -> RequestBuilder {
    client()
        .request(method(m), format!("{}{}", sb.everlytic().base_url(), path))
        .basic_auth(EVERLYTIC_USERNAME, Some(EVERLYTIC_API_KEY))
}

/// A Stripe request with valid credentials (Bearer).
pub fn st(sb: &Sandbox, m: &str, path: &str) -> RequestBuilder {
    client()
        .request(method(m), format!("{}{}", sb.stripe().base_url(), path))
        .bearer_auth(STRIPE_API_KEY)
}

pub async fn start() -> Sandbox {
    Sandbox::start().await.expect("sandbox starts")
}
