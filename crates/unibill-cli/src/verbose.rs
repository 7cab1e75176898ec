//! `-v` / `--debug`: one stderr line per HTTP request (backend, method,
//! path, status, time), taken from the `unibill.request` span the
//! library's transport opens around each request, and one line per retry
//! decision. The span carries no key and no body, so neither is printed.

use std::fmt;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;

/// The span the transport opens around each request.
const REQUEST_SPAN: &str = "unibill.request";

/// The fields of one request span.
#[derive(Default)]
struct RequestFields {
    backend: String,
    method: String,
    path: String,
    status: Option<u64>,
    elapsed_ms: Option<u64>,
    attempt: Option<u64>,
}

impl Visit for RequestFields {
    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "status" => self.status = Some(value),
            "elapsed_ms" => self.elapsed_ms = Some(value),
            "attempt" => self.attempt = Some(value),
            _ => {}
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.record_u64(field, u64::try_from(value).unwrap_or_default());
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.record_debug(field, &format_args!("{value}"));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        match field.name() {
            "backend" => self.backend = text,
            "method" => self.method = text,
            "path" => self.path = text,
            "status" | "elapsed_ms" | "attempt" => {
                if let Ok(n) = text.parse() {
                    self.record_u64(field, n);
                }
            }
            _ => {}
        }
    }
}

/// The fields of a retry event, as text (`reason`, `wait_ms`).
#[derive(Default)]
struct EventFields(Vec<(String, String)>);

impl Visit for EventFields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
}

/// Prints each request as its span closes.
struct RequestLog;

impl<S> Layer<S> for RequestLog
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != REQUEST_SPAN {
            return;
        }
        let mut fields = RequestFields::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            if let Some(fields) = span.extensions_mut().get_mut::<RequestFields>() {
                values.record(fields);
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        // The transport's own events (retry decisions), not those of the
        // HTTP client underneath.
        let ours = event.metadata().target().starts_with("unibill");
        let in_request = ctx
            .event_span(event)
            .is_some_and(|s| s.name() == REQUEST_SPAN);
        if !ours || !in_request {
            return;
        }
        let mut fields = EventFields::default();
        event.record(&mut fields);
        let text: Vec<String> = fields
            .0
            .iter()
            .map(|(k, v)| {
                if k == "message" {
                    v.clone()
                } else {
                    format!("{k}={v}")
                }
            })
            .collect();
        crate::say(format_args!("debug:   {}", text.join(" ")));
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let extensions = span.extensions();
        let Some(f) = extensions.get::<RequestFields>() else {
            return;
        };
        let status = f
            .status
            .map_or_else(|| "no answer".to_owned(), |s| s.to_string());
        let attempts = match f.attempt {
            Some(n) if n > 1 => format!(" ({n} attempts)"),
            _ => String::new(),
        };
        crate::say(format_args!(
            "debug: {} {} {} -> {status} in {} ms{attempts}",
            f.backend,
            f.method,
            f.path,
            f.elapsed_ms.unwrap_or_default()
        ));
    }
}

/// Prints every request the command sends from now on.
pub fn install() {
    let _ = tracing_subscriber::registry().with(RequestLog).try_init();
}
