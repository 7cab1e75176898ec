"""Runs stripe-python (Stripe's official Python library) against the
sandbox's Stripe listener and prints one JSON report on stdout.

Driven by `crates/unibill-sandbox/tests/sdk_fidelity.rs`, which starts the
sandbox (with extra customers for the paging steps) and sets:

  FIDELITY_BASE_URL          http://127.0.0.1:PORT (no /v1)
  FIDELITY_API_KEY           the sandbox's Stripe key
  FIDELITY_SEED_ID           Jenny Rosen, the "Update a customer" customer
  FIDELITY_SECOND_ID         Jane Doe, the idempotency steps' customer
  FIDELITY_ADDRESS_ID        Harbour Lights, with an address and metadata
  FIDELITY_EXTERNAL_ID       that customer's metadata[external_id]
  FIDELITY_SHARED_EXTERNAL_ID  metadata[external_id] of two lookup seeds
  FIDELITY_IDEMPOTENCY_KEY   the key the idempotency steps send

Each step calls the library as its README shows and records either
{"ok": true, "value": ..., "headers": {...}} (what the library parsed,
and the answer's headers it exposes) or
{"ok": false, "error": class, "status": N, "code", "param", "type"}.
Auto-paging steps record the ids they iterated. The Rust test asserts the
values and the requests; this script only observes.
"""

import json
import os
import sys
import traceback

import stripe

BASE = os.environ["FIDELITY_BASE_URL"]
KEY = os.environ["FIDELITY_API_KEY"]
SEED = os.environ["FIDELITY_SEED_ID"]
SECOND = os.environ["FIDELITY_SECOND_ID"]
ADDRESS = os.environ["FIDELITY_ADDRESS_ID"]
EXTERNAL_ID = os.environ["FIDELITY_EXTERNAL_ID"]
SHARED_EXTERNAL_ID = os.environ["FIDELITY_SHARED_EXTERNAL_ID"]
IDEMPOTENCY_KEY = os.environ["FIDELITY_IDEMPOTENCY_KEY"]

# The library's documented global settings: where the API is, no
# telemetry header, no automatic retries (each step is one request).
stripe.api_key = KEY
stripe.api_base = BASE
stripe.enable_telemetry = False
stripe.max_network_retries = 0

# The headers of an answer that the steps look at.
HEADERS = ("request-id", "idempotency-key", "idempotent-replayed", "original-request")

report = {"sdk": "stripe-python", "version": stripe.VERSION, "steps": {}}


def plain(v):
    """What the library parsed, as JSON (a StripeObject through its own
    `to_dict`: it is no dict)."""
    if isinstance(v, stripe.StripeObject):
        return v.to_dict(for_json=True)
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    return v


def headers_of(resp):
    if resp is None:
        return None
    return {h: resp.headers.get(h) for h in HEADERS if resp.headers.get(h) is not None}


def step(name, fn):
    try:
        value = fn()
        entry = {"ok": True}
        if isinstance(value, stripe.StripeObject):
            entry["headers"] = headers_of(value.last_response)
            entry["class"] = type(value).__name__
        entry["value"] = plain(value)
        report["steps"][name] = entry
    except stripe.StripeError as e:
        report["steps"][name] = {
            "ok": False,
            "error": type(e).__name__,
            "status": e.http_status,
            "code": e.code,
            "param": getattr(e, "param", None),
            "type": (e.json_body or {}).get("error", {}).get("type"),
            "message": e.user_message,
            "request_id": e.request_id,
        }
    except Exception as e:  # a library-side failure (decode error, ...)
        report["steps"][name] = {
            "ok": False,
            "error": type(e).__name__,
            "status": None,
            "body": "".join(traceback.format_exception_only(type(e), e)).strip(),
        }


def ids(objects):
    return [c.id for c in objects]


step("retrieve", lambda: stripe.Customer.retrieve(SEED))
step("retrieve_address", lambda: stripe.Customer.retrieve(ADDRESS))
step(
    "update_nested",
    lambda: stripe.Customer.modify(
        SEED,
        address={"line1": "Karl Johans gate 1", "city": "Oslo", "postal_code": "0154", "country": "NO"},
        metadata={"plan": "gold", "seats": "12"},
    ),
)
step("retrieve_after_update", lambda: stripe.Customer.retrieve(SEED))
step("clear", lambda: stripe.Customer.modify(ADDRESS, phone="", metadata={"plan": ""}))
step("retrieve_after_clear", lambda: stripe.Customer.retrieve(ADDRESS))

step("list_page", lambda: stripe.Customer.list(limit=2))
first_page = report["steps"]["list_page"].get("value") or {}
after = (first_page.get("data") or [{}])[-1].get("id", "")  # the plain copy
step("list_next_page", lambda: stripe.Customer.list(limit=2, starting_after=after))
step("list_auto_paging", lambda: ids(stripe.Customer.list(limit=100).auto_paging_iter()))
# With ending_before the library pages backwards, oldest first.
oldest = (report["steps"]["list_auto_paging"].get("value") or [""])[-1]
step(
    "list_auto_paging_backward",
    lambda: ids(stripe.Customer.list(limit=100, ending_before=oldest).auto_paging_iter()),
)

step("search", lambda: stripe.Customer.search(query="metadata['external_id']:'%s'" % EXTERNAL_ID))
step(
    "search_auto_paging",
    lambda: ids(
        stripe.Customer.search(
            query="metadata['external_id']:'%s'" % SHARED_EXTERNAL_ID, limit=1
        ).auto_paging_iter()
    ),
)

step(
    "idempotent_first",
    lambda: stripe.Customer.modify(
        SECOND, idempotency_key=IDEMPOTENCY_KEY, metadata={"order": "A-1"}, name="Jane Q. Doe"
    ),
)
step(
    "idempotent_replay",
    lambda: stripe.Customer.modify(
        SECOND, idempotency_key=IDEMPOTENCY_KEY, metadata={"order": "A-1"}, name="Jane Q. Doe"
    ),
)
step(
    "idempotent_conflict",
    lambda: stripe.Customer.modify(
        SECOND, idempotency_key=IDEMPOTENCY_KEY, metadata={"order": "A-2"}, name="Jane Q. Doe"
    ),
)

step("error_400_unknown", lambda: stripe.Customer.modify(SEED, nickname="Jen"))
step("error_400_metadata", lambda: stripe.Customer.modify(SEED, metadata={"note": "x" * 501}))
step("error_401", lambda: stripe.Customer.retrieve(SEED, api_key="sk_test_not_the_sandbox_key"))
step("error_404", lambda: stripe.Customer.retrieve("cus_DoesNotExist00"))

json.dump(report, sys.stdout, sort_keys=True)
sys.stdout.write("\n")
