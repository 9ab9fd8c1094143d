import type { Dispatcher } from 'undici';
import { WORKER_HEADER } from '../../reference/cluster.js';
import { errorCode } from '../http/client.js';

/** One request's fate: when it left, how long it took, and what came back. */
export interface Outcome {
  /** performance.now() just before the request was handed to its connection. */
  sentAt: number;
  ms: number;
  /** 0 when no answer came; see `error`. */
  status: number;
  /** The body's `error.code` on a 4xx or 5xx. */
  code?: string;
  /** The undici error code (or name) when no answer came. */
  error?: string;
  /** Which reference worker answered, when the target says. */
  worker?: string;
}

/** Sends one GET and reads the whole answer; never rejects. */
export async function probe(
  dispatcher: Dispatcher,
  path: string,
  authorization?: string,
): Promise<Outcome> {
  const sentAt = performance.now();
  try {
    const res = await dispatcher.request({
      path,
      method: 'GET',
      headers: authorization === undefined ? {} : { authorization },
    });
    const worker = res.headers[WORKER_HEADER];
    const code = res.statusCode >= 400 ? errorCode(await res.body.text()) : undefined;
    if (res.statusCode < 400) await res.body.dump();
    return {
      sentAt,
      ms: performance.now() - sentAt,
      status: res.statusCode,
      ...(code ? { code } : {}),
      ...(typeof worker === 'string' ? { worker } : {}),
    };
  } catch (error) {
    const { code, name } = error as { code?: string; name?: string };
    return { sentAt, ms: performance.now() - sentAt, status: 0, error: code ?? name ?? 'Error' };
  }
}

export const succeeded = (outcome: Outcome) => outcome.status >= 200 && outcome.status < 300;
