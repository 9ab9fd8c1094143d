import { check } from 'k6';
import http from 'k6/http';
import { Counter, Rate } from 'k6/metrics';
import type { Options } from 'k6/options';
import {
  BASE_URL,
  DURATION_S,
  P99_MS,
  VALID_PATH,
  constantVus,
  createKey,
  elapsedMs,
  envNumber,
  errorCode,
  isOperatorVu,
  revokeKey,
  summarize,
  withAuth,
  type Key,
  type SummaryData,
} from './shared.ts';

/**
 * Immediate revocation under load. Every VU keeps its keep-alive connection busy with key
 * K; at 40% of the run each instance's first VU revokes K. A request counts as "after"
 * when it was sent once the revoke call must have returned: at the revocation time plus
 * CCI_REVOKE_MARGIN_MS, a bound the revoke_in_time threshold enforces. After that, no
 * request on any connection, of any instance, may succeed.
 */
const REVOKE_AT_MS = 0.4 * DURATION_S * 1000;
const MARGIN_MS = envNumber('CCI_REVOKE_MARGIN_MS', 1000);

const acceptedBefore = new Rate('accepted_before_revocation');
const acceptedAfter = new Counter('accepted_after_revocation');
const refusedAfter = new Counter('refused_after_revocation');
const unexpectedAfter = new Counter('unexpected_after_revocation');
const revokeInTime = new Rate('revoke_in_time');

export const options: Options = {
  scenarios: {
    revocation: constantVus(),
  },
  thresholds: {
    accepted_after_revocation: ['count==0'],
    refused_after_revocation: ['count>0'],
    unexpected_after_revocation: ['count==0'],
    accepted_before_revocation: ['rate==1'],
    revoke_in_time: ['rate==1'],
    'http_req_duration{scenario:revocation,name:/v1/whoami}': [`p(99)<${P99_MS}`],
  },
  summaryTrendStats: ['med', 'p(99)', 'max'],
};

export function setup(): Key {
  return createKey('revocation K');
}

let revoked = false;

export default function (key: Key): void {
  if (isOperatorVu() && !revoked && elapsedMs() >= REVOKE_AT_MS) {
    revoked = true;
    const ok = revokeKey(key.id);
    revokeInTime.add(ok && elapsedMs() <= REVOKE_AT_MS + MARGIN_MS);
  }
  const sentAt = elapsedMs();
  const res = http.get(`${BASE_URL}${VALID_PATH}`, withAuth(`Bearer ${key.key}`, {}));
  if (sentAt >= REVOKE_AT_MS + MARGIN_MS) judgeAfter(res.status, errorCode(res));
  else if (elapsedMs() < REVOKE_AT_MS) acceptedBefore.add(res.status === 200);
}

function judgeAfter(status: number, code: string): void {
  const refused = check(status, { 'refused after revocation': (s) => s === 401 });
  if (!refused && status >= 200 && status < 300) acceptedAfter.add(1);
  else if (refused && code === 'revoked_api_key') refusedAfter.add(1);
  else unexpectedAfter.add(1, { status: String(status), code });
}

export function teardown(key: Key): void {
  revokeKey(key.id);
}

export function handleSummary(data: SummaryData): Record<string, string> {
  return { stdout: summarize('revocation', data) };
}
