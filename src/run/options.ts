import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { emptyVariable } from '../cli/args.js';

/** What a run is pointed at, as the environment says (the CLI sets these from its flags). */
export interface RunOptions {
  baseUrl?: string;
  managementToken?: string;
  keysFile?: string;
  allowMutations: boolean;
  /** A skipped MUST requirement fails the run. */
  strict: boolean;
  seed: number;
  trustedProxy?: string;
  contractFile?: string;
  reportDir: string;
  /** Only the scenarios of these profiles; all when empty. */
  profiles: string[];
}

/** The variables behind {@link RunOptions}, for `npx playwright test` users. */
export const ENV = {
  baseUrl: 'CCI_BASE_URL',
  managementToken: 'CCI_MANAGEMENT_TOKEN',
  keysFile: 'CCI_KEYS_FILE',
  allowMutations: 'CCI_ALLOW_MUTATIONS',
  strict: 'CCI_STRICT',
  seed: 'CCI_SEED',
  trustedProxy: 'CCI_TRUSTED_PROXY',
  contractFile: 'CCI_CONTRACT',
  reportDir: 'CCI_REPORT_DIR',
  profiles: 'CCI_PROFILES',
} as const;

/** Reads the run options; throws with the variable's name when one is wrong. */
export function readRunOptions(env: NodeJS.ProcessEnv = process.env): RunOptions {
  // Running without a variable that did not arrive would check something else than meant.
  const empty = emptyVariable(env, (name) => name.startsWith('CCI_'));
  if (empty) throw new Error(empty);
  const text = (name: string) =>
    env[name] && env[name]!.trim() !== '' ? env[name]!.trim() : undefined;
  const seed = parseSeed(text(ENV.seed) ?? '1', ENV.seed);
  const baseUrl = text(ENV.baseUrl);
  if (baseUrl !== undefined) checkBaseUrl(baseUrl);
  const keysFile = text(ENV.keysFile);
  const contractFile = text(ENV.contractFile);
  const managementToken = text(ENV.managementToken);
  const trustedProxy = text(ENV.trustedProxy);
  if (trustedProxy !== undefined && isIP(trustedProxy) === 0)
    throw new Error(`${ENV.trustedProxy} must be an IP address, not "${trustedProxy}"`);
  const flag = (name: string) => {
    const value = (text(name) ?? '0').toLowerCase();
    if (TRUE.includes(value)) return true;
    if (FALSE.includes(value)) return false;
    throw new Error(`${name} must be 1 or 0 (or true/false, yes/no), not "${text(name)}"`);
  };
  return {
    ...(baseUrl ? { baseUrl: baseUrl.replace(/\/+$/, '') } : {}),
    ...(managementToken ? { managementToken } : {}),
    ...(keysFile ? { keysFile: resolve(keysFile) } : {}),
    ...(trustedProxy ? { trustedProxy } : {}),
    ...(contractFile ? { contractFile: resolve(contractFile) } : {}),
    allowMutations: flag(ENV.allowMutations),
    strict: flag(ENV.strict),
    seed,
    reportDir: resolve(text(ENV.reportDir) ?? 'reports'),
    profiles: profileList(text(ENV.profiles), ENV.profiles),
  };
}

/**
 * The profile ids of a comma-separated list; `what` names the flag or variable. A list
 * that names none (`,`) is refused: it is no choice of all profiles.
 */
export function profileList(text: string | undefined, what: string): string[] {
  if (text === undefined) return [];
  const named = text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (named.length === 0) throw new Error(`${what} names no profile: "${text}"`);
  return named;
}

/** A seed is a whole number written in decimal; `what` names the flag or variable it came from. */
export function parseSeed(text: string, what: string): number {
  const seed = /^-?\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(seed)) throw new Error(`${what} must be an integer, not "${text}"`);
  return seed;
}

const TRUE = ['1', 'true', 'yes'];
const FALSE = ['0', 'false', 'no'];

/** A base URL must be absolute http(s) without a query or fragment. */
export function checkBaseUrl(value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`the base URL "${value}" is not a URL (for example http://127.0.0.1:8080)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`the base URL must use http or https, not ${url.protocol}`);
  }
  if (url.search || url.hash) throw new Error('the base URL must not have a query or fragment');
}
