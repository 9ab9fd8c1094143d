import { request } from 'undici';
import { isLoopback } from '../target/addresses.js';
import type { LoadTarget } from './check.js';
import { HEALTH_PATH } from './keys.js';
import { spawnReference } from './spawn-reference.js';

/** The run cannot be done as asked: a bad option, an unreachable target, a refused token. */
export class UnusableError extends Error {}

export interface TargetOptions {
  baseUrl?: string;
  managementToken?: string;
  /** Reference worker processes when the reference is embedded. */
  workers: number;
}

/** The target of a run: the given URL, else the reference in-process or as a child. */
export async function openTarget(options: TargetOptions): Promise<LoadTarget> {
  if (options.baseUrl) return external(options.baseUrl, options.managementToken);
  if (options.workers > 1) {
    const child = await spawnReference({ workers: options.workers });
    return {
      baseUrl: child.url,
      managementToken: child.managementToken,
      label: `reference, ${options.workers} worker processes`,
      workers: options.workers,
      close: child.stop,
    };
  }
  const { startReference } = await import('../../reference/server.js');
  const reference = await startReference();
  return {
    baseUrl: reference.url,
    managementToken: reference.managementToken,
    label: 'embedded reference (in-process)',
    workers: 1,
    close: reference.close,
  };
}

async function external(baseUrl: string, token: string | undefined): Promise<LoadTarget> {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new UnusableError(`--base-url ${baseUrl} is not a URL`);
  }
  if (url.protocol !== 'http:' || !isLoopback(baseUrl)) {
    throw new UnusableError(
      '--base-url must be http:// on loopback (127.0.0.0/8 or [::1]): load goes nowhere else',
    );
  }
  if (!token) {
    throw new UnusableError('--management-token is needed: the checks create and revoke keys');
  }
  const origin = url.origin;
  await expectStatus(`${origin}${HEALTH_PATH}`, undefined, (s) => s === 200, 'did not answer 200');
  await expectStatus(
    `${origin}/v1/keys`,
    token,
    (s) => s !== 401 && s !== 403,
    'refused the management token',
  );
  const close = async () => undefined;
  return { baseUrl: origin, managementToken: token, label: origin, workers: 1, close };
}

async function expectStatus(
  url: string,
  token: string | undefined,
  ok: (status: number) => boolean,
  what: string,
): Promise<void> {
  const { origin, pathname } = new URL(url);
  let status: number;
  try {
    const res = await request(url, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      headersTimeout: 5000,
      bodyTimeout: 5000,
    });
    status = res.statusCode;
    await res.body.dump();
  } catch (error) {
    const code = (error as { code?: string }).code ?? (error as Error).message;
    throw new UnusableError(`cannot reach ${origin}: ${code}`);
  }
  if (!ok(status)) throw new UnusableError(`${origin} ${what} on ${pathname} (${status})`);
}
