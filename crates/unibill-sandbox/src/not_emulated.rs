//! The one answer for every endpoint an emulator does not model.
//!
//! A request the emulator has no model for (a path it does not know, or a
//! method it does not emulate on a path it knows) is answered with
//! [`NOT_EMULATED_STATUS`] (501), the header
//! [`NOT_EMULATED_HEADER`]`: `[`NOT_EMULATED_VALUE`] and a plain-text body
//! naming the method and the path. It is never in the vendor's own error
//! shape, so a client cannot take it for a vendor's refusal ("no such
//! customer", "method not allowed"): the vendor may well offer the
//! endpoint. The request is journaled like any other, with status 501.

use crate::http::{Req, Resp};

/// The status of the not-emulated answer: 501 Not Implemented.
pub const NOT_EMULATED_STATUS: u16 = 501;
/// The header that marks the not-emulated answer.
pub const NOT_EMULATED_HEADER: &str = "X-Unibill-Sandbox";
/// The value of [`NOT_EMULATED_HEADER`] on the not-emulated answer.
pub const NOT_EMULATED_VALUE: &str = "not-emulated";

/// Longest path quoted in the body, in characters.
const MAX_PATH_CHARS: usize = 200;

/// The not-emulated answer to `req`, from the emulator of `vendor` (its
/// display name, e.g. `"Fusebill"`).
pub(crate) fn answer(vendor: &str, req: &Req) -> Resp {
    let mut path: String = req.path.chars().take(MAX_PATH_CHARS).collect();
    if req.path.chars().count() > MAX_PATH_CHARS {
        path.push('…');
    }
    let body = format!(
        "unibill-sandbox: {} {path} is not emulated by the {vendor} emulator.\n\
         This is not the vendor's answer: the real API may offer this endpoint. \
         See docs/sandbox.md for what the sandbox emulates.\n",
        req.method
    );
    Resp::text(NOT_EMULATED_STATUS, "text/plain; charset=utf-8", &body)
        .with_header(NOT_EMULATED_HEADER, NOT_EMULATED_VALUE)
}
