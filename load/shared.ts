import { fail } from 'k6';
import exec from 'k6/execution';
import http, { type Params, type RefinedResponse, type ResponseType } from 'k6/http';

/** Read on every call so that a typo in a variable name fails loudly at init, not mid-run. */
export function envNumber(name: string, fallback: number): number {
  const text = __ENV[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    fail(`${name} must be a positive number, not "${text}"`);
  }
  return value;
}

export const BASE_URL = (__ENV.CCI_BASE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
export const VALID_PATH = '/v1/whoami';
export const DURATION_S = envNumber('CCI_DURATION', 60);
export const VUS = Math.round(envNumber('CCI_VUS', 20));
export const P99_MS = envNumber('CCI_P99_MS', 500);

/** The scenario of the checks that keep every VU busy for the whole run. */
export const constantVus = () => ({
  executor: 'constant-vus' as const,
  vus: VUS,
  duration: `${DURATION_S}s`,
  gracefulStop: '5s',
});

const LOOPBACK = /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/;

/** The scripts create and revoke keys: off loopback they need CCI_ALLOW_MUTATIONS=1. */
function managementToken(): string {
  const token = __ENV.CCI_MANAGEMENT_TOKEN;
  if (!token) fail('set CCI_MANAGEMENT_TOKEN: the scripts create and revoke their own keys');
  if (!LOOPBACK.test(BASE_URL) && __ENV.CCI_ALLOW_MUTATIONS !== '1') {
    fail(`${BASE_URL} is not on loopback: set CCI_ALLOW_MUTATIONS=1 to create keys there`);
  }
  return token;
}

export interface Key {
  id: string;
  key: string;
}

function manage<RT extends ResponseType | undefined>(
  method: string,
  path: string,
  body: string | null,
): RefinedResponse<RT> {
  return http.request<RT>(method, `${BASE_URL}${path}`, body, {
    headers: { Authorization: `Bearer ${managementToken()}`, 'Content-Type': 'application/json' },
    tags: { name: `management ${method}` },
    responseCallback: http.expectedStatuses(200, 201, 204),
  });
}

/** A key for this run, in an account of its own so that it is easy to find and clean up. */
export function createKey(role: string): Key {
  const name = `k6 ${role} ${Date.now()}`;
  const body = JSON.stringify({ name, plan: 'enterprise', accountId: 'k6-load' });
  const res = manage('POST', '/v1/keys', body);
  const created = res.status === 201 ? (res.json() as { id?: unknown; key?: unknown }) : {};
  if (typeof created.id !== 'string' || typeof created.key !== 'string') {
    fail(`creating the ${role} key: expected 201 with id and key, got ${res.status}`);
  }
  return { id: created.id, key: created.key };
}

/** True when the key is revoked (204; 200 is tolerated). */
export function revokeKey(id: string): boolean {
  const res = manage('DELETE', `/v1/keys/${encodeURIComponent(id)}`, null);
  return res.status === 204 || res.status === 200;
}

/** Request parameters carrying `authorization`, or none, tagged for the thresholds. */
export function withAuth(authorization: string | undefined, tags: Record<string, string>): Params {
  return {
    headers: authorization === undefined ? {} : { Authorization: authorization },
    tags: { name: VALID_PATH, ...tags },
    timeout: '10s',
  };
}

/** The error code of a refusal, or '' when the body has none. */
export function errorCode(res: RefinedResponse<ResponseType | undefined>): string {
  try {
    const body = res.json() as { error?: { code?: unknown } } | null;
    return typeof body?.error?.code === 'string' ? body.error.code : '';
  } catch {
    return '';
  }
}

/** The scenario clock: milliseconds since this scenario started on this instance. */
export function elapsedMs(): number {
  return Date.now() - exec.scenario.startTime;
}

/**
 * Each instance's first VU acts for the operator: with the k6 operator setup() runs on
 * every runner, so each runner must revoke the keys its own setup() made.
 */
export function isOperatorVu(): boolean {
  return exec.vu.idInInstance === 1;
}

/** A key as it may be printed: its prefix and last four characters. */
export function redact(key: string): string {
  const match = /^(cci_[A-Za-z]+_)/.exec(key);
  return `${match ? match[1] : ''}…${key.slice(-4)}`;
}

/** The parts of k6's end-of-test data that {@link summarize} reads. */
export interface SummaryData {
  metrics: Record<
    string,
    {
      type: string;
      values: Record<string, number>;
      thresholds?: Record<string, { ok: boolean }>;
    }
  >;
}

/** A short end-of-test text: every threshold with its verdict, then `extra` lines. */
export function summarize(title: string, data: SummaryData, extra: string[] = []): string {
  const lines = [`${title} against ${BASE_URL}`];
  let failed = 0;
  for (const [name, metric] of Object.entries(data.metrics)) {
    for (const [rule, verdict] of Object.entries(metric.thresholds ?? {})) {
      if (!verdict.ok) failed++;
      const shown = Object.entries(metric.values)
        .map(([k, v]) => `${k}=${round(v)}`)
        .join(' ');
      lines.push(`  ${verdict.ok ? 'ok  ' : 'FAIL'} ${name} ${rule}  (${shown})`);
    }
  }
  lines.push(...extra.map((line) => `  ${line}`));
  lines.push(failed === 0 ? 'PASS: every threshold held' : `FAIL: ${failed} threshold(s) crossed`);
  return `${lines.join('\n')}\n`;
}

function round(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}
