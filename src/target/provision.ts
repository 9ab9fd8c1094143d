import { readFileSync } from 'node:fs';
import type { Contract } from '../contract/model.js';
import { send, type HttpResponse } from '../http/client.js';
import type { AddressPlan } from './addresses.js';
import { ManagementApi } from './management-api.js';

/** How one key role is made: its plan, its allowlist role (if any) and whether it is revoked. */
interface RoleSpec {
  plan: string;
  allowlist?: string;
  revoked?: boolean;
}

/** Every role the scenarios may ask for, derived from the contract's plans. */
export function roleSpecs(contract: Contract): Record<string, RoleSpec> {
  const cheapest = contract.plans[0]!;
  const top = contract.plans.at(-1)!;
  const specs: Record<string, RoleSpec> = {};
  for (const plan of contract.plans) specs[`valid.${plan}`] = { plan };
  Object.assign(specs, {
    revoked: { plan: top, revoked: true },
    'revoked.restricted': { plan: cheapest, allowlist: 'revoked.restricted', revoked: true },
    'ip.allowed': { plan: top, allowlist: 'ip.allowed' },
    'ip.elsewhere': { plan: top, allowlist: 'ip.elsewhere' },
    'ip.elsewhere.cheapest': { plan: cheapest, allowlist: 'ip.elsewhere.cheapest' },
    'ip.second': { plan: top, allowlist: 'ip.second' },
    'ip.allowed.cheapest': { plan: cheapest, allowlist: 'ip.allowed.cheapest' },
    'ip.everywhere': { plan: top, allowlist: 'ip.everywhere' },
    'ip.cidr.upper': { plan: top, allowlist: 'ip.cidr.upper' },
    'ip.v6': { plan: top, allowlist: 'ip.v6' },
    'ip.v6.long': { plan: top, allowlist: 'ip.v6.long' },
    'ip.v6.cidr': { plan: top, allowlist: 'ip.v6.cidr' },
    'ip.v6.other': { plan: top, allowlist: 'ip.v6.other' },
    'ip.cidr': { plan: top, allowlist: 'ip.cidr' },
    'ip.cidr.elsewhere': { plan: top, allowlist: 'ip.cidr.elsewhere' },
  });
  return specs;
}

export interface Provisioned {
  keys: Record<string, string>;
  missing: Record<string, string>;
  /** Ids of keys this run created: all are revoked at the end. */
  created: string[];
}

/** The variable that carries a static key for `role`: valid.starter → CCI_KEY_VALID_STARTER. */
export function staticKeyVariable(role: string): string {
  return `CCI_KEY_${role.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** Keys handed in for read-only runs: a JSON file of role → key, then CCI_KEY_* variables. */
export function readStaticKeys(
  contract: Contract,
  file: string | undefined,
): Record<string, string> {
  const keys: Record<string, string> = {};
  const { livePrefix, bodyMinLength, bodyMaxLength, pattern } = contract.keyFormat;
  /** Where each key came from, to name it when its shape is wrong. */
  const from: Record<string, string> = {};
  if (file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new Error(`--keys-file ${file}: ${(error as Error).message.split('\n')[0]}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new Error(`--keys-file ${file}: expected a JSON object of role → key`);
    }
    for (const [role, key] of Object.entries(parsed)) {
      if (typeof key !== 'string')
        throw new Error(`--keys-file ${file}: the key for ${role} is not a string`);
      keys[role] = key;
      from[role] = `--keys-file ${file}`;
    }
  }
  const variables = new Map(Object.keys(roleSpecs(contract)).map((r) => [staticKeyVariable(r), r]));
  const strays = Object.keys(process.env).filter(
    (name) => name.startsWith('CCI_KEY_') && !variables.has(name),
  );
  if (strays.length > 0) {
    throw new Error(
      `unknown key variables: ${strays.join(', ')}; known: ${[...variables.keys()].join(', ')}`,
    );
  }
  for (const role of Object.keys(roleSpecs(contract))) {
    const value = process.env[staticKeyVariable(role)];
    if (value) {
      keys[role] = value;
      from[role] = staticKeyVariable(role);
    }
  }
  const unknown = Object.keys(keys).filter((role) => !(role in roleSpecs(contract)));
  if (unknown.length > 0) {
    throw new Error(
      `unknown key roles: ${unknown.join(', ')}; ` +
        `known: ${Object.keys(roleSpecs(contract)).join(', ')}`,
    );
  }
  for (const [role, key] of Object.entries(keys)) {
    if (pattern.test(key) && key.startsWith(livePrefix)) continue;
    // Described by its length and last four only: a key of the wrong shape may still be a secret.
    throw new Error(
      `${from[role]}: the key for ${role} is not a live key of the contract's shape ` +
        `(${livePrefix} and ${bodyMinLength}–${bodyMaxLength} base62 characters); ` +
        `it has ${key.length} characters${key.length > 12 ? `, ending …${key.slice(-4)}` : ''}`,
    );
  }
  return keys;
}

/**
 * Creates (and for revoked roles, revokes) one key per role through the management API.
 * Roles whose allowlist cannot be built for this target are reported missing with the reason.
 */
export async function provisionKeys(
  contract: Contract,
  api: ManagementApi,
  runId: string,
  plan: AddressPlan,
  onCreated: (id: string) => void,
  skip: string[] = [],
): Promise<Pick<Provisioned, 'keys' | 'missing'>> {
  const keys: Record<string, string> = {};
  const missing: Record<string, string> = {};
  const entries = Object.entries(roleSpecs(contract)).filter(([role]) => !skip.includes(role));
  await Promise.all(
    entries.map(async ([role, spec]) => {
      let allowedIps: string[] = [];
      if (spec.allowlist) {
        const list = plan.allowlists[spec.allowlist];
        if (!list) {
          missing[role] = plan.missingAllowlists[spec.allowlist] ?? 'no allowlist for this target';
          return;
        }
        allowedIps = list;
      }
      const created = await api.create({
        name: `cci-conformance ${runId} ${role}`,
        plan: spec.plan,
        accountId: runAccount(runId),
        allowedIps,
      });
      onCreated(created.id);
      if (spec.revoked) await api.revoke(created.id);
      keys[role] = created.key;
    }),
  );
  return { keys, missing };
}

/** The account under which a run creates its keys. */
export function runAccount(runId: string, suffix = ''): string {
  return `cci-conformance-${runId}${suffix ? `-${suffix}` : ''}`.toLowerCase().slice(0, 64);
}

/**
 * The target's answer to the introspection operation for a key; undefined when the
 * contract has no such operation.
 */
export async function askIdentity(
  contract: Contract,
  baseUrl: string,
  key: string,
): Promise<HttpResponse | undefined> {
  const op = contract.operations.find((o) => o.operationId === 'getCallerIdentity');
  if (!op) return undefined;
  return send({
    url: new URL(op.pathTemplate, baseUrl).toString(),
    method: op.method,
    headers: { authorization: `Bearer ${key}` },
  });
}

/** The client address the target reports for a key, through the introspection operation. */
export async function observedAddress(
  contract: Contract,
  baseUrl: string,
  key: string,
): Promise<string | undefined> {
  try {
    const res = await askIdentity(contract, baseUrl, key);
    if (!res) return undefined;
    const body = JSON.parse(res.body) as { clientAddress?: unknown };
    return res.status === 200 && typeof body.clientAddress === 'string'
      ? body.clientAddress
      : undefined;
  } catch {
    return undefined;
  }
}
