import { randomBytes } from 'node:crypto';
import { loadContract } from '../contract/load.js';
import type { Contract } from '../contract/model.js';
import { errorCode, send } from '../http/client.js';
import { clearReports, unwritableReason } from '../report/files.js';
import { redactKey, redactSecrets } from '../secrets/redact.js';
import { isLoopback, loopbackPlan, remotePlan, type AddressPlan } from '../target/addresses.js';
import { ManagementApi } from '../target/management-api.js';
import {
  askIdentity,
  observedAddress,
  provisionKeys,
  readStaticKeys,
  roleSpecs,
  runAccount,
} from '../target/provision.js';
import { publishRunState, type RunState } from '../target/state.js';
import { readRunOptions, type RunOptions } from './options.js';

/** The trusted proxy the embedded reference is started with: a loopback address of its own. */
export const EMBEDDED_TRUSTED_PROXY = '127.0.0.9';

/**
 * Why the run may not create or revoke keys; undefined when it may. A loopback target is
 * the tester's own; anywhere else it takes an explicit --allow-mutations.
 */
export function mutationPolicy(
  hasManagementApi: boolean,
  loopback: boolean,
  allowed: boolean,
): string | undefined {
  if (!hasManagementApi)
    return 'no management token: keys cannot be created or revoked (pass --management-token)';
  if (!loopback && !allowed) {
    return (
      'the target is not on loopback: creating and revoking keys there needs ' + '--allow-mutations'
    );
  }
  return undefined;
}

interface Target {
  baseUrl: string;
  ipv6Url?: string;
  managementToken?: string;
  trustedProxy?: string;
  close?: () => Promise<void>;
}

/**
 * Prepares a run: starts the embedded reference when no target is given, provisions a key
 * per role, and publishes the run state to the workers. Returns the teardown, which
 * revokes every key the run created, also when the run failed or was interrupted.
 */
export default function globalSetup(): Promise<() => Promise<void>> {
  const setup = prepare();
  underway = setup;
  return setup;
}

/**
 * The setup of this process, and its teardown once it has one. A stop while the setup runs
 * makes Playwright give up waiting for it and skip its teardown, while it goes on making
 * keys: the global teardown then waits for it to end and cleans up after it.
 */
let underway: Promise<unknown> | undefined;
let setupTeardown: (() => Promise<void>) | undefined;

/** Revokes the keys of a setup that a stop cut short, once it has ended; else nothing. */
export async function finishInterruptedSetup(): Promise<void> {
  await underway?.catch(() => undefined);
  await setupTeardown?.();
}

async function prepare(): Promise<() => Promise<void>> {
  const options = readRunOptions();
  const contract = loadContract(options.contractFile);
  const unwritable = unwritableReason(options.reportDir);
  if (unwritable) {
    throw setupError(`reports cannot be written to ${options.reportDir} (${unwritable})`);
  }
  clearReports(options.reportDir);
  const target = await resolveTarget(options);
  const runId = process.env.CCI_RUN_ID ?? randomBytes(4).toString('hex');
  const created: string[] = [];
  const api = target.managementToken
    ? new ManagementApi(target.baseUrl, target.managementToken)
    : undefined;
  const loopback = isLoopback(target.baseUrl);
  const mutationsBlocked = mutationPolicy(api !== undefined, loopback, options.allowMutations);

  // Once: after a stop cut the setup short, the global teardown calls it as well.
  let tornDown: Promise<void> | undefined;
  const teardown = () =>
    (tornDown ??= (async () => {
      if (api && !mutationsBlocked) await sweep(api, runId, created);
      await target.close?.();
    })());
  setupTeardown = teardown;

  try {
    const keys = readStaticKeys(contract, options.keysFile);
    await checkStaticKeys(contract, target.baseUrl, keys);
    const plan = await addressPlan(
      contract,
      target,
      loopback,
      api && !mutationsBlocked ? api : undefined,
      keys,
      runId,
      created,
    );
    const missingRoles: Record<string, string> = {};
    if (api && !mutationsBlocked) {
      const wanted = await provisionKeys(
        contract,
        api,
        runId,
        plan,
        (id) => created.push(id),
        Object.keys(keys),
      );
      Object.assign(keys, wanted.keys);
      Object.assign(missingRoles, wanted.missing);
    }
    for (const role of Object.keys(roleSpecs(contract))) {
      if (!(role in keys) && !(role in missingRoles)) {
        missingRoles[role] = `no ${role} key was given (--keys-file), and ${mutationsBlocked}`;
      }
    }
    const state: RunState = {
      runId,
      startedAt: new Date().toISOString(),
      baseUrl: target.baseUrl,
      ...(target.ipv6Url ? { ipv6Url: target.ipv6Url } : {}),
      ...(options.contractFile ? { contractFile: options.contractFile } : {}),
      seed: options.seed,
      ...(target.managementToken ? { managementToken: target.managementToken } : {}),
      ...(mutationsBlocked ? { mutationsBlocked } : {}),
      keys,
      missingRoles,
      sources: plan.sources,
      missingSources: plan.missingSources,
      addresses: { elsewhere: plan.allowlists['ip.elsewhere']?.[0] ?? '192.0.2.10' },
    };
    publishRunState(state);
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}

/**
 * A static key given for a valid role that the target refuses as unknown or revoked: stale,
 * most likely, or pasted from another environment. Every scenario that uses it would fail
 * the target for it, so the run does not start, and says which role (never the key).
 */
async function checkStaticKeys(
  contract: Contract,
  baseUrl: string,
  keys: Record<string, string>,
): Promise<void> {
  for (const [role, key] of Object.entries(keys)) {
    if (!role.startsWith('valid.')) continue;
    const res = await askIdentity(contract, baseUrl, key);
    if (res?.status !== 401) continue;
    const code = errorCode(res.body);
    throw setupError(
      `the target refuses the ${role} key given for this run (${redactKey(key)}): ` +
        `401${code ? ` ${redactSecrets(code)}` : ''}; a static key must be a current key of ` +
        'its role (is it revoked, or from another environment?)',
    );
  }
}

/**
 * A setup error that is the user's to fix (an unreachable target, a refused token): its
 * message alone, for Playwright prints the stack of what setup throws, and a stack here
 * would only point into this file.
 */
function setupError(message: string): Error {
  const error = new Error(message);
  error.stack = `Error: ${message}`;
  return error;
}

async function resolveTarget(options: RunOptions): Promise<Target> {
  if (!options.baseUrl) {
    // Imported here so that runs against other targets never load the reference.
    const { startReference } = await import('../../reference/server.js');
    const reference = await startReference({
      trustedProxies: [EMBEDDED_TRUSTED_PROXY],
      ...(options.contractFile ? { contractFile: options.contractFile } : {}),
    });
    return {
      baseUrl: reference.url,
      ...(reference.ipv6Url ? { ipv6Url: reference.ipv6Url } : {}),
      managementToken: reference.managementToken,
      trustedProxy: EMBEDDED_TRUSTED_PROXY,
      close: reference.close,
    };
  }
  try {
    await send({ url: `${options.baseUrl}/v1/health`, method: 'GET', timeoutMs: 10_000 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw setupError(`cannot reach ${options.baseUrl}: ${code}`);
  }
  if (options.managementToken) {
    const api = new ManagementApi(options.baseUrl, options.managementToken);
    const refused = await api.tokenRefusal();
    if (refused) throw setupError(`${options.baseUrl} refused the management token (${refused})`);
  }
  const target: Target = {
    baseUrl: options.baseUrl,
    ...(options.managementToken ? { managementToken: options.managementToken } : {}),
    ...(options.trustedProxy ? { trustedProxy: options.trustedProxy } : {}),
  };
  const ipv6Url = isLoopback(options.baseUrl) ? await probeIpv6(options.baseUrl) : undefined;
  return ipv6Url ? { ...target, ipv6Url } : target;
}

/** The target's IPv6 loopback URL, when it answers there too. */
async function probeIpv6(baseUrl: string): Promise<string | undefined> {
  const url = new URL(baseUrl);
  if (url.hostname === '[::1]') return baseUrl;
  url.hostname = '[::1]';
  try {
    await send({ url: `${url.origin}/v1/health`, method: 'GET', timeoutMs: 10_000 });
    return url.origin;
  } catch {
    return undefined;
  }
}

async function addressPlan(
  contract: Contract,
  target: Target,
  loopback: boolean,
  api: ManagementApi | undefined,
  keys: Record<string, string>,
  runId: string,
  created: string[],
): Promise<AddressPlan> {
  if (loopback) return loopbackPlan(target.ipv6Url, target.trustedProxy);
  const top = `valid.${contract.plans.at(-1)}`;
  let probeKey = keys[top];
  if (!probeKey && api) {
    const made = await api.create({
      name: `cci-conformance ${runId} address probe`,
      plan: contract.plans.at(-1)!,
      accountId: runAccount(runId),
    });
    created.push(made.id);
    probeKey = made.key;
  }
  return remotePlan(
    probeKey ? await observedAddress(contract, target.baseUrl, probeKey) : undefined,
  );
}

/** Revokes what the run created: the ids it recorded, and any key named after the run. */
async function sweep(api: ManagementApi, runId: string, created: string[]): Promise<void> {
  const ids = new Set(created);
  try {
    const { keys } = await api.list();
    for (const key of keys) {
      if (key.revokedAt === null && key.name.startsWith(`cci-conformance ${runId}`))
        ids.add(key.id);
    }
  } catch {
    // The listing is a second net; the recorded ids are revoked regardless.
  }
  await Promise.allSettled([...ids].map((id) => api.revoke(id)));
}
