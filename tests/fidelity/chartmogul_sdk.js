// Runs chartmogul-node (ChartMogul's official Node.js client) against the
// sandbox's ChartMogul listener and prints one JSON report on stdout.
//
// Driven by crates/unibill-sandbox/tests/sdk_fidelity.rs, which starts the
// sandbox, points NODE_PATH at the installed node_modules and sets
// FIDELITY_BASE_URL (no /v1), FIDELITY_API_KEY, FIDELITY_SEED_UUID,
// FIDELITY_SECOND_UUID and FIDELITY_SECOND_EMAIL.
//
// Each step calls the SDK as its README shows and records either
// {"ok": true, "value": ...} (the body the SDK resolved) or
// {"ok": false, "error": class, "status": N, "body": ...}. The Rust test
// asserts the values; this script only observes.
'use strict';

const ChartMogul = require('chartmogul-node');
const version = require('chartmogul-node/package.json').version;

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const BASE = env('FIDELITY_BASE_URL');
const KEY = env('FIDELITY_API_KEY');
const SEED = env('FIDELITY_SEED_UUID');
const SECOND = env('FIDELITY_SECOND_UUID');
const SECOND_EMAIL = env('FIDELITY_SECOND_EMAIL');

function config (key) {
  // The SDK's documented way to change the API base: Config(apiKey, apiBase).
  const c = new ChartMogul.Config(key, BASE);
  c.retries = 0;
  return c;
}

const cfg = config(KEY);
const report = { sdk: 'chartmogul-node', version, steps: {} };

async function step (name, fn) {
  try {
    report.steps[name] = { ok: true, value: await fn() };
  } catch (e) {
    // chartmogul-node 3.12.3 rejects a 4xx with superagent's own HTTP
    // error (`status`, `response.body`), whatever the server: its
    // ChartMogulError classes (`httpStatus`, `response`) are only reached
    // when superagent reports no error. Both forms are read here.
    const agent = e && e.response && typeof e.response === 'object' && 'body' in e.response;
    let status = null;
    if (e && e.httpStatus !== undefined) status = e.httpStatus;
    else if (e && typeof e.status === 'number') status = e.status;
    let body = String(e && e.stack ? e.stack : e);
    if (agent) body = e.response.body;
    else if (e && e.response !== undefined) body = e.response;
    report.steps[name] = {
      ok: false,
      error: e && e.constructor ? e.constructor.name : String(e),
      status,
      body
    };
  }
}

async function main () {
  const { Customer, CustomAttribute, Tag } = ChartMogul;
  await step('retrieve', () => Customer.retrieve(cfg, SEED));
  await step('retrieve_second', () => Customer.retrieve(cfg, SECOND));
  await step('attributes', () => Customer.attributes(cfg, SECOND));
  // Seed 000's request body, as the SDK's own example sends it.
  await step('modify_nested', () => Customer.modify(cfg, SEED, {
    lead_created_at: '2015-01-01 00:00:00',
    free_trial_started_at: '2015-06-13 15:45:13',
    city: 'San Francisco',
    country: 'US',
    state: 'CA',
    attributes: {
      tags: ['high-value'],
      custom: { CAC: 25, channel: { value: 'Twitter', source: 'integration2' } }
    }
  }));
  await step('modify_clear', () => Customer.modify(cfg, SEED, { company: null, zip: null }));
  await step('retrieve_after_clear', () => Customer.retrieve(cfg, SEED));
  await step('custom_add', () => CustomAttribute.add(cfg, SEED, {
    custom: [
      { type: 'String', key: 'plan', value: 'Gold', source: 'integration' },
      { type: 'Integer', key: 'seats', value: 12 },
      { type: 'Decimal', key: 'discount', value: 12.5 },
      // JSON.stringify writes a Date as toISOString().
      { type: 'Timestamp', key: 'renewsAt', value: new Date(Date.UTC(2024, 2, 1, 10, 0, 0)) },
      { type: 'Boolean', key: 'vip', value: true }
    ]
  }));
  // Seed 001's request, exactly.
  await step('custom_update', () => CustomAttribute.update(cfg, SECOND, {
    custom: { pro: true, channel: { value: 'Twitter', source: 'integration2' } }
  }));
  await step('custom_remove', () => CustomAttribute.remove(cfg, SEED, { custom: ['plan'] }));
  // Seed 002's request.
  await step('custom_add_by_email', () => CustomAttribute.add(cfg, {
    email: SECOND_EMAIL,
    custom: [
      { type: 'String', key: 'channel', value: 'Facebook', source: 'integration' },
      { type: 'Integer', key: 'age', value: 8 }
    ]
  }));
  await step('tags_add', () => Tag.add(cfg, SEED, { tags: ['important', 'Prio1'] }));
  await step('tags_remove', () => Tag.remove(cfg, SEED, { tags: ['Prio1'] }));
  await step('tags_add_by_email', () => Tag.add(cfg, { email: SECOND_EMAIL, tags: ['vip'] }));
  await step('attributes_after', () => Customer.attributes(cfg, SECOND));
  await step('error_401', () => Customer.retrieve(config('not-the-key'), SEED));
  await step('error_404', () => Customer.retrieve(cfg, 'cus_00000000-0000-0000-0000-000000000000'));
  await step('error_422', () => Customer.modify(cfg, SEED, { status: 'Active' }));
  process.stdout.write(JSON.stringify(report) + '\n');
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
