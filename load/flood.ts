import exec from 'k6/execution';
import http from 'k6/http';
import { Counter, Rate } from 'k6/metrics';
import type { Options } from 'k6/options';
import {
  BASE_URL,
  DURATION_S,
  P99_MS,
  VALID_PATH,
  createKey,
  envNumber,
  revokeKey,
  summarize,
  withAuth,
  type Key,
  type SummaryData,
} from './shared.ts';

/**
 * A flood of unknown, malformed, missing, test and revoked credentials beside a steady
 * stream of valid requests. Nothing may answer 5xx or drop the connection, every valid
 * request must succeed, no bad credential may get in, and refusals must be fast.
 */
const VALID_RATE = envNumber('CCI_VALID_RATE', 50);
const FLOOD_RATE = envNumber('CCI_FLOOD_RATE', 450);
const MAX_VUS = Math.round(envNumber('CCI_MAX_VUS', 200));
const P50_MS = envNumber('CCI_P50_MS', 50);

const serverErrors = new Counter('server_errors');
const validAccepted = new Rate('valid_accepted');
const invalidAdmitted = new Counter('invalid_admitted');

const arrival = (rate: number, execName: string) => ({
  executor: 'constant-arrival-rate' as const,
  rate,
  timeUnit: '1s',
  duration: `${DURATION_S}s`,
  preAllocatedVUs: Math.min(MAX_VUS, Math.ceil(rate / 20) + 2),
  maxVUs: MAX_VUS,
  exec: execName,
});

export const options: Options = {
  scenarios: { valid: arrival(VALID_RATE, 'valid'), flood: arrival(FLOOD_RATE, 'flood') },
  thresholds: {
    server_errors: ['count==0'],
    valid_accepted: ['rate==1'],
    invalid_admitted: ['count==0'],
    // Valid requests must be 2xx and refusals 400 or 401: anything else counts as failed.
    http_req_failed: ['rate==0'],
    'http_req_duration{kind:valid}': [`p(50)<${P50_MS}`, `p(99)<${P99_MS}`],
    'http_req_duration{kind:refused}': [`p(50)<${P50_MS}`, `p(99)<${P99_MS}`],
  },
  summaryTrendStats: ['med', 'p(99)', 'max'],
};

interface Keys {
  valid: Key;
  revoked: Key;
}

export function setup(): Keys {
  const revoked = createKey('flood revoked');
  revokeKey(revoked.id);
  return { valid: createKey('flood valid'), revoked };
}

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const body = (length: number) =>
  Array.from({ length }, () => BASE62[Math.floor(Math.random() * BASE62.length)]).join('');

/** The Authorization header of each refused kind; undefined sends none. */
const BAD: Array<(keys: Keys) => string | undefined> = [
  () => `Bearer cci_live_${body(40)}`,
  () => 'Bearer nope',
  () => undefined,
  () => `Bearer cci_test_${body(40)}`,
  (keys) => `Bearer ${keys.revoked.key}`,
  () => '',
  () => `Basic ${body(24)}`,
  () => `Bearer ${'x'.repeat(2048)}`,
];

export function valid(keys: Keys): void {
  const params = withAuth(`Bearer ${keys.valid.key}`, { kind: 'valid' });
  const res = http.get(`${BASE_URL}${VALID_PATH}`, params);
  validAccepted.add(res.status === 200);
  if (res.status === 0 || res.status >= 500) serverErrors.add(1, { kind: 'valid' });
}

export function flood(keys: Keys): void {
  const variant = exec.scenario.iterationInTest % BAD.length;
  const params = {
    ...withAuth(BAD[variant]!(keys), { kind: 'refused', variant: String(variant) }),
    responseCallback: http.expectedStatuses(400, 401),
  };
  const res = http.get(`${BASE_URL}${VALID_PATH}`, params);
  if (res.status >= 200 && res.status < 300) invalidAdmitted.add(1, { variant: String(variant) });
  if (res.status === 0 || res.status >= 500) serverErrors.add(1, { kind: 'refused' });
}

export function teardown(keys: Keys): void {
  revokeKey(keys.valid.id);
}

export function handleSummary(data: SummaryData): Record<string, string> {
  const med = (name: string) => data.metrics[name]?.values.med ?? 0;
  const valid = med('http_req_duration{kind:valid}');
  const refused = med('http_req_duration{kind:refused}');
  const ratio = valid > 0 ? (refused / valid).toFixed(2) : 'n/a';
  return { stdout: summarize('flood', data, [`refused p50 / valid p50 = ${ratio}`]) };
}
