//! Accept loop and HTTP/1.1 connection handling.

use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};

use crate::handle::{Inner, Outcome};
use crate::http::{Req, Resp};

/// Largest request body accepted (1 MiB); larger bodies get 413.
const MAX_BODY: usize = 1 << 20;

/// Resolves once shutdown was requested (or the sender is gone).
async fn shutdown_requested(rx: &mut watch::Receiver<bool>) {
    loop {
        if *rx.borrow_and_update() {
            return;
        }
        if rx.changed().await.is_err() {
            return;
        }
    }
}

pub(crate) async fn accept_loop(
    listener: TcpListener,
    inner: Arc<Inner>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                match accepted {
                    Ok((stream, _peer)) => {
                        inner.connections.fetch_add(1, Ordering::SeqCst);
                        inner.live_connections.fetch_add(1, Ordering::SeqCst);
                        let inner = Arc::clone(&inner);
                        let rx = shutdown.clone();
                        tokio::spawn(async move {
                            connection(stream, Arc::clone(&inner), rx).await;
                            inner.live_connections.fetch_sub(1, Ordering::SeqCst);
                        });
                    }
                    Err(_) => {
                        // Out of file descriptors or similar: back off briefly.
                        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                    }
                }
            }
            _ = shutdown_requested(&mut shutdown) => break,
        }
    }
}

async fn connection(stream: TcpStream, inner: Arc<Inner>, mut shutdown: watch::Receiver<bool>) {
    let _ = stream.set_nodelay(true);
    let kill = Arc::new(Notify::new());
    let svc_inner = Arc::clone(&inner);
    let svc_kill = Arc::clone(&kill);
    let service = service_fn(move |req: Request<Incoming>| {
        let inner = Arc::clone(&svc_inner);
        let kill = Arc::clone(&svc_kill);
        async move { Ok::<_, Infallible>(serve_request(inner, kill, req).await) }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = conn => {}
        _ = kill.notified() => {}
        _ = shutdown_requested(&mut shutdown) => {}
    }
    // Dropping the connection future closes the socket.
}

async fn serve_request(
    inner: Arc<Inner>,
    kill: Arc<Notify>,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let headers = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut simple = Req {
        method: parts.method.as_str().to_ascii_uppercase(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers,
        body: Vec::new(),
    };
    match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => simple.body = collected.to_bytes().to_vec(),
        Err(e) => {
            let too_large = e
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some();
            let (status, message) = if too_large {
                (413, "request body larger than 1 MiB")
            } else {
                (400, "request body could not be read")
            };
            return to_hyper(inner.body_error(simple, status, message));
        }
    }
    match inner.process(simple).await {
        Outcome::Respond(resp) => to_hyper(resp),
        Outcome::Drop => {
            kill.notify_one();
            std::future::pending::<()>().await;
            to_hyper(Resp::text(500, "text/plain", "unreachable"))
        }
    }
}

fn to_hyper(resp: Resp) -> Response<Full<Bytes>> {
    let mut out = Response::new(Full::new(Bytes::from(resp.body)));
    *out.status_mut() =
        StatusCode::from_u16(resp.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = out.headers_mut();
    for (k, v) in resp.headers {
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(k.as_bytes()),
            hyper::header::HeaderValue::from_str(&v),
        ) {
            headers.append(name, value);
        }
    }
    out
}
