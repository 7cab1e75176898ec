// Runs stripe-node (Stripe's official Node.js library) against the
// sandbox's Stripe listener and prints one JSON report on stdout.
//
// Driven by crates/unibill-sandbox/tests/sdk_fidelity.rs, which starts the
// sandbox (with extra customers for the paging steps), points NODE_PATH at
// the installed node_modules and sets FIDELITY_BASE_URL (no /v1),
// FIDELITY_API_KEY, FIDELITY_SEED_ID, FIDELITY_SECOND_ID,
// FIDELITY_ADDRESS_ID, FIDELITY_EXTERNAL_ID, FIDELITY_SHARED_EXTERNAL_ID
// and FIDELITY_IDEMPOTENCY_KEY (see stripe_sdk.py for what each names).
//
// Each step calls the library as its README shows and records either
// {"ok": true, "value": ..., "headers": {...}} (what the library resolved,
// and the answer's headers it exposes on `lastResponse`) or
// {"ok": false, "error": class, "status": N, "code", "param", "type"}.
// Auto-paging steps record the ids they iterated. The Rust test asserts
// the values and the requests; this script only observes.
'use strict';

const Stripe = require('stripe');
// The package exports no package.json; the library states its version.
const version = Stripe.PACKAGE_VERSION;

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const BASE = new URL(env('FIDELITY_BASE_URL'));
const KEY = env('FIDELITY_API_KEY');
const SEED = env('FIDELITY_SEED_ID');
const SECOND = env('FIDELITY_SECOND_ID');
const ADDRESS = env('FIDELITY_ADDRESS_ID');
const EXTERNAL_ID = env('FIDELITY_EXTERNAL_ID');
const SHARED_EXTERNAL_ID = env('FIDELITY_SHARED_EXTERNAL_ID');
const IDEMPOTENCY_KEY = env('FIDELITY_IDEMPOTENCY_KEY');

// The library's documented client options: where the API is, no
// telemetry header, no automatic retries (each step is one request).
function client (key) {
  return new Stripe(key, {
    host: BASE.hostname,
    port: Number(BASE.port),
    protocol: 'http',
    telemetry: false,
    maxNetworkRetries: 0
  });
}

const stripe = client(KEY);
// The headers of an answer that the steps look at.
const HEADERS = ['request-id', 'idempotency-key', 'idempotent-replayed', 'original-request'];
const report = { sdk: 'stripe-node', version, steps: {} };

function headersOf (res) {
  if (!res || !res.headers) return null;
  const out = {};
  for (const h of HEADERS) {
    if (res.headers[h] !== undefined) out[h] = res.headers[h];
  }
  return out;
}

async function step (name, fn) {
  try {
    const value = await fn();
    const entry = { ok: true };
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      entry.headers = headersOf(value.lastResponse);
    }
    entry.value = value;
    report.steps[name] = entry;
  } catch (e) {
    if (e instanceof Stripe.errors.StripeError) {
      report.steps[name] = {
        ok: false,
        error: e.type,
        status: e.statusCode === undefined ? null : e.statusCode,
        code: e.code === undefined ? null : e.code,
        param: e.param === undefined ? null : e.param,
        type: e.rawType === undefined ? null : e.rawType,
        message: e.message,
        request_id: e.requestId === undefined ? null : e.requestId
      };
    } else {
      // A library-side failure (decode error, ...).
      report.steps[name] = {
        ok: false,
        error: e && e.constructor ? e.constructor.name : String(e),
        status: null,
        body: String(e && e.stack ? e.stack : e)
      };
    }
  }
}

const ids = (customers) => customers.map((c) => c.id);

async function main () {
  await step('retrieve', () => stripe.customers.retrieve(SEED));
  await step('retrieve_address', () => stripe.customers.retrieve(ADDRESS));
  await step('update_nested', () => stripe.customers.update(SEED, {
    address: { line1: 'Karl Johans gate 1', city: 'Oslo', postal_code: '0154', country: 'NO' },
    metadata: { plan: 'gold', seats: '12' }
  }));
  await step('retrieve_after_update', () => stripe.customers.retrieve(SEED));
  await step('clear', () => stripe.customers.update(ADDRESS, { phone: '', metadata: { plan: '' } }));
  await step('retrieve_after_clear', () => stripe.customers.retrieve(ADDRESS));

  await step('list_page', () => stripe.customers.list({ limit: 2 }));
  const first = report.steps.list_page.value || {};
  const after = ((first.data || []).slice(-1)[0] || {}).id || '';
  await step('list_next_page', () => stripe.customers.list({ limit: 2, starting_after: after }));
  await step('list_auto_paging', async () =>
    ids(await stripe.customers.list({ limit: 100 }).autoPagingToArray({ limit: 10000 })));
  // With ending_before the library pages backwards, oldest first.
  const oldest = (report.steps.list_auto_paging.value || ['']).slice(-1)[0];
  await step('list_auto_paging_backward', async () => ids(await stripe.customers
    .list({ limit: 100, ending_before: oldest })
    .autoPagingToArray({ limit: 10000 })));

  await step('search', () => stripe.customers.search({ query: `metadata['external_id']:'${EXTERNAL_ID}'` }));
  await step('search_auto_paging', async () => ids(await stripe.customers
    .search({ query: `metadata['external_id']:'${SHARED_EXTERNAL_ID}'`, limit: 1 })
    .autoPagingToArray({ limit: 100 })));

  const idem = (order) => stripe.customers.update(
    SECOND,
    { metadata: { order }, name: 'Jane Q. Doe' },
    { idempotencyKey: IDEMPOTENCY_KEY }
  );
  await step('idempotent_first', () => idem('A-1'));
  await step('idempotent_replay', () => idem('A-1'));
  await step('idempotent_conflict', () => idem('A-2'));

  await step('error_400_unknown', () => stripe.customers.update(SEED, { nickname: 'Jen' }));
  await step('error_400_metadata', () => stripe.customers.update(SEED, { metadata: { note: 'x'.repeat(501) } }));
  await step('error_401', () => client('sk_test_not_the_sandbox_key').customers.retrieve(SEED));
  await step('error_404', () => stripe.customers.retrieve('cus_DoesNotExist00'));

  process.stdout.write(JSON.stringify(report) + '\n');
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
