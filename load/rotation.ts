import { check } from 'k6';
import exec from 'k6/execution';
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import type { Options } from 'k6/options';
import {
  BASE_URL,
  DURATION_S,
  P99_MS,
  VALID_PATH,
  VUS,
  constantVus,
  createKey,
  elapsedMs,
  errorCode,
  isOperatorVu,
  revokeKey,
  summarize,
  withAuth,
  type Key,
  type SummaryData,
} from './shared.ts';

/**
 * Key rotation under load. Keys A and B both exist from setup() on (k6 VUs share no state
 * at run time, so B is minted up front); VUs move from A to B one by one between 20% and
 * 60% of the run; at 75% each instance's first VU revokes A. No request on the key a VU
 * was told to use may fail.
 */
const MOVE_FROM_MS = 0.2 * DURATION_S * 1000;
const MOVE_TO_MS = 0.6 * DURATION_S * 1000;
const REVOKE_AT_MS = 0.75 * DURATION_S * 1000;
/** Shorter than the gap between the last move and the revocation: no A request outlives it. */
const TIMEOUT_S = Math.max(1, Math.floor((REVOKE_AT_MS - MOVE_TO_MS) / 2000));

const rotationFailures = new Counter('rotation_failures');
const oldKeyRefused = new Counter('old_key_refused');
const operatorErrors = new Counter('operator_errors');

export const options: Options = {
  scenarios: {
    rotation: constantVus(),
  },
  thresholds: {
    rotation_failures: ['count==0'],
    old_key_refused: ['count>=1'],
    operator_errors: ['count==0'],
    'http_req_duration{scenario:rotation,name:/v1/whoami}': [`p(99)<${P99_MS}`],
  },
  summaryTrendStats: ['med', 'p(99)', 'max'],
};

interface Keys {
  a: Key;
  b: Key;
}

export function setup(): Keys {
  return { a: createKey('rotation A'), b: createKey('rotation B') };
}

let revoked = false;

export default function (keys: Keys): void {
  if (isOperatorVu() && !revoked && elapsedMs() >= REVOKE_AT_MS) {
    revoked = true;
    revokeOld(keys.a);
  }
  const slot = elapsedMs() >= moveAt(exec.vu.idInInstance) ? 'B' : 'A';
  const key = slot === 'A' ? keys.a : keys.b;
  const params = { ...withAuth(`Bearer ${key.key}`, { key: slot }), timeout: `${TIMEOUT_S}s` };
  const res = http.get(`${BASE_URL}${VALID_PATH}`, params);
  const accepted = check(res, { 'the assigned key is accepted': (r) => r.status === 200 });
  if (!accepted) rotationFailures.add(1, { key: slot, status: String(res.status) });
}

function revokeOld(a: Key): void {
  if (!revokeKey(a.id)) {
    operatorErrors.add(1, { step: 'revoke A' });
    return;
  }
  const params = withAuth(`Bearer ${a.key}`, { key: 'A revoked' });
  const res = http.get(`${BASE_URL}${VALID_PATH}`, params);
  const refused = res.status === 401 && errorCode(res) === 'revoked_api_key';
  if (refused) oldKeyRefused.add(1);
  else operatorErrors.add(1, { step: 'A refused after revocation' });
}

/** When a VU moves to B: spread evenly over the move window, in VU order. */
function moveAt(vu: number): number {
  return MOVE_FROM_MS + ((MOVE_TO_MS - MOVE_FROM_MS) * ((vu - 1) % VUS)) / VUS;
}

export function teardown(keys: Keys): void {
  revokeKey(keys.a.id);
  revokeKey(keys.b.id);
}

export function handleSummary(data: SummaryData): Record<string, string> {
  return { stdout: summarize('rotation', data) };
}
