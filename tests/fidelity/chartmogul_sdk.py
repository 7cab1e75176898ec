"""Runs chartmogul-python (ChartMogul's official Python client) against the
sandbox's ChartMogul listener and prints one JSON report on stdout.

Driven by `crates/unibill-sandbox/tests/sdk_fidelity.rs`, which starts the
sandbox and sets:

  FIDELITY_BASE_URL        http://127.0.0.1:PORT (no /v1)
  FIDELITY_API_KEY         the sandbox's ChartMogul key
  FIDELITY_SEED_UUID       the "Update a Customer" customer
  FIDELITY_SECOND_UUID     the custom-attribute pages' customer
  FIDELITY_SECOND_EMAIL    that customer's email

Each step calls the SDK as its README shows and records either
{"ok": true, "value": ...} (what the SDK returned, parsed by the SDK) or
{"ok": false, "error": class, "status": N, "body": ...}. The Rust test
asserts the values; this script only observes.
"""

import datetime
import json
import os
import sys
import traceback

import chartmogul
from chartmogul import (
    Attributes,
    Config,
    CustomAttributes,
    Customer,
    Tags,
)

BASE = os.environ["FIDELITY_BASE_URL"]
KEY = os.environ["FIDELITY_API_KEY"]
SEED = os.environ["FIDELITY_SEED_UUID"]
SECOND = os.environ["FIDELITY_SECOND_UUID"]
SECOND_EMAIL = os.environ["FIDELITY_SECOND_EMAIL"]


def config(key=KEY):
    c = Config(key, request_timeout=30, max_retries=0)
    # The SDK's documented base is Config.uri ("https://api.chartmogul.com/v1").
    c.uri = BASE + "/v1"
    return c


def plain(v):
    """What the SDK parsed, as JSON (datetimes in ISO form)."""
    if isinstance(v, (datetime.datetime, datetime.date)):
        return v.isoformat()
    if hasattr(v, "_asdict"):  # the SDK's namedtuples (by-email answers)
        return plain(v._asdict())
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if hasattr(v, "__dict__"):
        return {k: plain(x) for k, x in vars(v).items() if not k.startswith("_")}
    return v


report = {"sdk": "chartmogul-python", "version": chartmogul.__version__, "steps": {}}


def step(name, fn):
    try:
        report["steps"][name] = {"ok": True, "value": plain(fn())}
    except chartmogul.APIError as e:
        cause = e.__cause__
        resp = getattr(cause, "response", None)
        body = None
        if resp is not None:
            try:
                body = resp.json()
            except ValueError:
                body = resp.text
        report["steps"][name] = {
            "ok": False,
            "error": type(e).__name__,
            "status": resp.status_code if resp is not None else None,
            "body": body,
        }
    except Exception as e:  # an SDK-side failure (parse error, ...)
        report["steps"][name] = {
            "ok": False,
            "error": type(e).__name__,
            "status": None,
            "body": "".join(traceback.format_exception_only(type(e), e)).strip(),
        }


cfg = config()

step("retrieve", lambda: Customer.retrieve(cfg, uuid=SEED).get())
step("retrieve_second", lambda: Customer.retrieve(cfg, uuid=SECOND).get())
step("attributes", lambda: Attributes.retrieve(cfg, uuid=SECOND).get())
# Seed 000's request body, as the SDK's own example sends it.
step(
    "modify_nested",
    lambda: Customer.modify(
        cfg,
        uuid=SEED,
        data={
            "lead_created_at": "2015-01-01 00:00:00",
            "free_trial_started_at": "2015-06-13 15:45:13",
            "city": "San Francisco",
            "country": "US",
            "state": "CA",
            "attributes": {
                "tags": ["high-value"],
                "custom": {
                    "CAC": 25,
                    "channel": {"value": "Twitter", "source": "integration2"},
                },
            },
        },
    ).get(),
)
step(
    "modify_clear",
    lambda: Customer.modify(cfg, uuid=SEED, data={"company": None, "zip": None}).get(),
)
step("retrieve_after_clear", lambda: Customer.retrieve(cfg, uuid=SEED).get())
step(
    "custom_add",
    lambda: CustomAttributes.add(
        cfg,
        uuid=SEED,
        data={
            "custom": [
                {"type": "String", "key": "plan", "value": "Gold", "source": "integration"},
                {"type": "Integer", "key": "seats", "value": 12},
                {"type": "Decimal", "key": "discount", "value": 12.5},
                # The SDK serialises a datetime with isoformat().
                {"type": "Timestamp", "key": "renewsAt", "value": datetime.datetime(2024, 3, 1, 10, 0, 0)},
                {"type": "Boolean", "key": "vip", "value": True},
            ]
        },
    ).get(),
)
# Seed 001's request, exactly.
step(
    "custom_update",
    lambda: CustomAttributes.update(
        cfg,
        uuid=SECOND,
        data={"custom": {"channel": {"value": "Twitter", "source": "integration2"}, "pro": True}},
    ).get(),
)
step(
    "custom_remove",
    lambda: CustomAttributes.remove(cfg, uuid=SEED, data={"custom": ["plan"]}).get(),
)
# Seed 002's request (with the key the account types as Integer).
step(
    "custom_add_by_email",
    lambda: CustomAttributes.add_by_email(
        cfg,
        data={
            "email": SECOND_EMAIL,
            "custom": [
                {"type": "String", "key": "channel", "value": "Facebook", "source": "integration"},
                {"type": "Integer", "key": "age", "value": 8},
            ],
        },
    ).get(),
)
step("tags_add", lambda: Tags.add(cfg, uuid=SEED, data={"tags": ["important", "Prio1"]}).get())
step("tags_remove", lambda: Tags.remove(cfg, uuid=SEED, data={"tags": ["Prio1"]}).get())
step(
    "tags_add_by_email",
    lambda: Tags.add_by_email(cfg, data={"email": SECOND_EMAIL, "tags": ["vip"]}).get(),
)
step("attributes_after", lambda: Attributes.retrieve(cfg, uuid=SECOND).get())
step("error_401", lambda: Customer.retrieve(config("not-the-key"), uuid=SEED).get())
step(
    "error_404",
    lambda: Customer.retrieve(cfg, uuid="cus_00000000-0000-0000-0000-000000000000").get(),
)
step("error_422", lambda: Customer.modify(cfg, uuid=SEED, data={"status": "Active"}).get())

json.dump(report, sys.stdout, sort_keys=True)
sys.stdout.write("\n")
