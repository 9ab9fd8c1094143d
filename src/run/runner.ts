import type { Agent } from 'node:http';
import { createHash } from 'node:crypto';
import type { Contract } from '../contract/model.js';
import { SchemaValidator } from '../contract/schemas.js';
import { connection, send, type HttpResponse } from '../http/client.js';
import type {
  CreateStep,
  ListStep,
  ManagementStep,
  RequestStep,
  Scenario,
  Source,
  Step,
} from '../scenarios/model.js';
import {
  fillPlaceholders,
  managementNearMisses,
  outgoing,
  outgoingBody,
} from '../scenarios/fill.js';
import { redactSecrets } from '../secrets/redact.js';
import { ManagementApi } from '../target/management-api.js';
import { runAccount } from '../target/provision.js';
import { runSecrets, type RunState } from '../target/state.js';
import { checkResponse, identityChecks, namesCheck, type Check } from './checks.js';

/** What one step sent and got, redacted, for the report. */
export interface Evidence {
  step: number;
  action: string;
  request?: {
    method: string;
    url: string;
    from?: string;
    headers: Record<string, string>;
    body?: string;
  };
  response?: {
    status: number;
    headers: Record<string, string>;
    body: string;
    reusedConnection: boolean;
  };
  note?: string;
}

export interface ScenarioResult {
  checks: Check[];
  evidence: Evidence[];
}

/** Runs scenarios against the target of a run. One per worker. */
export class ScenarioRunner {
  private readonly validator: SchemaValidator;
  private readonly api: ManagementApi | undefined;
  /** Operations under the management credential, by operationId. */
  private readonly managementOps: Set<string>;

  constructor(
    private readonly contract: Contract,
    private readonly state: RunState,
  ) {
    this.validator = new SchemaValidator(contract);
    this.managementOps = new Set(
      contract.operations
        .filter((op) => op.security === 'managementToken')
        .map((op) => op.operationId),
    );
    this.api = state.managementToken
      ? new ManagementApi(state.baseUrl, state.managementToken)
      : undefined;
  }

  /** Why the scenario cannot run against this target; undefined when it can. */
  skipReason(scenario: Scenario): string | undefined {
    if (scenario.mutating && this.state.mutationsBlocked) return this.state.mutationsBlocked;
    // Whether the management API refuses strangers says something only about a target
    // known to offer one; a production smoke may serve it elsewhere, or not at all.
    if (!this.api && scenario.steps.some((step) => this.callsManagement(step))) {
      return 'no management token: the management API is not assessed (pass --management-token)';
    }
    for (const role of scenario.roles) {
      if (!(role in this.state.keys))
        return this.state.missingRoles[role] ?? `no key for role ${role}`;
    }
    for (const source of scenario.sources) {
      if (this.state.sources[source] === undefined) {
        return this.state.missingSources[source] ?? `source ${source} is not available`;
      }
    }
    return undefined;
  }

  private callsManagement(step: Step): boolean {
    return (
      step.action === 'request' &&
      step.request.operationId !== null &&
      this.managementOps.has(step.request.operationId)
    );
  }

  async run(scenario: Scenario): Promise<ScenarioResult> {
    return new Sequence(this, scenario).run();
  }

  /** @internal */
  get context() {
    return { contract: this.contract, state: this.state, validator: this.validator, api: this.api };
  }
}

/** The state of one scenario while it runs: keys it created, connections it holds. */
class Sequence {
  private readonly created = new Map<string, { id: string; key: string }>();
  private readonly connections = new Map<string, Agent>();
  private readonly checks: Check[] = [];
  private readonly evidence: Evidence[] = [];
  private readonly secrets: string[];

  constructor(
    private readonly runner: ScenarioRunner,
    private readonly scenario: Scenario,
  ) {
    const { state, contract } = runner.context;
    // Near misses of the management token are nearly the token: kept out of reports as it is.
    const near = state.managementToken
      ? managementNearMisses(state.managementToken, contract.keyFormat)
      : [];
    this.secrets = [...runSecrets(state), ...near];
  }

  async run(): Promise<ScenarioResult> {
    try {
      for (const [index, step] of this.scenario.steps.entries()) {
        if (step.action === 'request') await this.request(index, step);
        else if (step.action === 'create') await this.create(index, step);
        else if (step.action === 'revoke') await this.revoke(index, step.name);
        else if (step.action === 'list') await this.list(index, step);
        else await this.management(index, step);
      }
    } finally {
      await this.cleanUp();
    }
    return { checks: this.checks, evidence: this.evidence };
  }

  private get api(): ManagementApi {
    const api = this.runner.context.api;
    if (!api) throw new Error('this scenario needs the management API');
    return api;
  }

  private account(name: string): string {
    const digest = createHash('sha256').update(this.scenario.id).digest('hex').slice(0, 8);
    return runAccount(this.runner.context.state.runId, `${digest}-${name}`);
  }

  /** Fills the placeholders of a scenario's text (see scenarios/model.ts). */
  private fill(text: string): string {
    const { state, contract } = this.runner.context;
    return fillPlaceholders(text, {
      keys: state.keys,
      addresses: state.addresses,
      created: (name) => this.created.get(name)?.key,
      format: contract.keyFormat,
      runId: state.runId,
      ...(state.managementToken ? { managementToken: state.managementToken } : {}),
    });
  }

  private async request(index: number, step: RequestStep): Promise<void> {
    const { state, contract, validator } = this.runner.context;
    const spec = step.request;
    const base = spec.from === 'ipv6' ? state.ipv6Url! : state.baseUrl;
    const url = new URL(spec.path, `${base}/`);
    for (const [name, value] of Object.entries(spec.query ?? {}))
      url.searchParams.set(name, this.fill(value));
    const { headers, lines, body } = outgoing(spec, (text) => this.fill(text));
    const localAddress = this.sourceAddress(spec.from);
    const agent = spec.connection ? this.connectionFor(spec.connection, spec.from, url) : undefined;

    const res = await send({
      url: url.toString(),
      method: spec.method,
      headers: lines,
      ...(body !== undefined ? { body } : {}),
      ...(localAddress ? { localAddress } : {}),
      ...(agent ? { agent } : {}),
    });
    const sent = [
      ...this.secrets,
      ...[...this.created.values()].map((c) => c.key),
      ...tokensOf(headers),
      ...(spec.extraHeaders ?? []).flatMap(([, value]) =>
        tokensOf({ authorization: this.fill(value) }),
      ),
    ];
    const checks = checkResponse(step.expect, res, {
      requirement: step.requirement ?? this.scenario.requirement,
      realm: contract.realm,
      validator,
      secrets: sent,
      bodiless: spec.method.toUpperCase() === 'HEAD',
    });
    if (step.expectIdentity) {
      const { clientAddress, plan } = step.expectIdentity;
      const address = this.sourceAddress(clientAddress) ?? res.localAddress ?? '';
      checks.push(...identityChecks({ clientAddress: address, plan }, res));
    }
    const shown = Object.fromEntries(
      Object.entries(lines).map(([n, v]) => [n, Array.isArray(v) ? v.join(' | ') : v]),
    );
    this.record(
      index,
      'request',
      { method: spec.method, url: url.toString(), from: spec.from, headers: shown, body },
      res,
      checks,
    );
  }

  private sourceAddress(source: Source): string | undefined {
    const address = this.runner.context.state.sources[source];
    return address === null ? undefined : address;
  }

  private connectionFor(name: string, from: Source, url: URL): Agent {
    let agent = this.connections.get(name);
    if (!agent) {
      agent = connection(url.protocol === 'https:', this.sourceAddress(from));
      this.connections.set(name, agent);
    }
    return agent;
  }

  private async create(index: number, step: CreateStep): Promise<void> {
    const { state } = this.runner.context;
    const made = await this.api.create({
      name: `cci-conformance ${state.runId} ${this.scenario.id} ${step.keyName ?? step.name}`,
      plan: step.plan,
      accountId: this.account(step.account),
    });
    this.created.set(step.name, made);
    const format = this.runner.context.contract.keyFormat;
    this.checks.push(
      format.pattern.test(made.key) && made.key.startsWith(format.livePrefix)
        ? { requirement: 'MGMT-01', ok: true, what: 'created key shown once in full' }
        : {
            requirement: 'MGMT-01',
            ok: false,
            what: '/key',
            expected: 'a live key of the documented shape',
            actual: redactSecrets(made.key),
          },
    );
    this.evidence.push({
      step: index,
      action: 'create',
      note: `created key ${step.name} (${made.id})`,
    });
  }

  private async revoke(index: number, name: string): Promise<void> {
    const key = this.created.get(name);
    if (!key) throw new Error(`the sequence revokes ${name} before creating it`);
    const res = await this.api.revoke(key.id);
    // The answer to a revocation is the management API's too: it shows no secret (MGMT-01).
    this.checks.push(...this.listingLeaks(res));
    this.evidence.push({ step: index, action: 'revoke', note: `revoked key ${name} (${key.id})` });
  }

  private async list(index: number, step: ListStep): Promise<void> {
    // Sequences create their keys in one account, so one listing shows them all.
    const account = this.account('main');
    const requirement = step.requirement ?? 'MGMT-01';
    const { res, keys } = await this.api.list(account);
    this.checks.push(...this.listingLeaks(res));
    // The listing of every account too: a filter is no reason for a secret to appear.
    this.checks.push(...this.listingLeaks((await this.api.list()).res));
    for (const name of step.names) {
      const made = this.created.get(name)!;
      const listed = keys.find((k) => k.id === made.id);
      this.checks.push(
        listed && listed.name.endsWith(` ${name}`)
          ? { requirement, ok: true, what: `key ${name} listed under its own name` }
          : {
              requirement,
              ok: false,
              what: `key ${name} in the listing`,
              expected: `an entry with id ${made.id} named "… ${name}"`,
              actual: listed ? `named "${listed.name}"` : 'absent',
            },
      );
    }
    this.record(
      index,
      'list',
      { method: 'GET', url: `/v1/keys?accountId=${account}`, headers: {} },
      res,
      [],
    );
  }

  /** MGMT-01: a management answer shows no more of this sequence's keys than a listing may. */
  private listingLeaks(res: HttpResponse): Check[] {
    return checkResponse({ status: res.status }, res, {
      requirement: 'MGMT-01',
      realm: this.runner.context.contract.realm,
      validator: this.runner.context.validator,
      secrets: [...this.created.values()].map((c) => c.key),
      listing: true,
    })
      .filter((c) => c.requirement === 'ERR-02' || c.requirement === 'MGMT-01')
      .map((c) => ({ ...c, requirement: 'MGMT-01' }));
  }

  private async management(index: number, step: ManagementStep): Promise<void> {
    const { contract, validator } = this.runner.context;
    const { value, text: body } = outgoingBody(step.body, (text) => this.fill(text));
    const res = await this.api.raw(step.method, step.path, body);
    this.keepMadeKey(index, step.method, value, res);
    const checks = checkResponse(step.expect, res, {
      requirement: this.scenario.requirement,
      realm: contract.realm,
      validator,
      secrets: this.secrets,
    });
    if (step.names) checks.push(namesCheck(step.names, res));
    this.record(
      index,
      'management',
      { method: step.method, url: step.path, headers: {}, ...(body ? { body } : {}) },
      res,
      checks,
    );
  }

  /**
   * A creation the target should have refused may have made a key all the same: it is
   * revoked with the scenario's own keys, and kept out of the evidence like them. Only an
   * answer to a POST counts, and when the POST named the key, only a key of that name: no
   * other key of the target is revoked for it.
   */
  private keepMadeKey(index: number, method: string, sentBody: unknown, res: HttpResponse): void {
    if (method.toUpperCase() !== 'POST' || res.status < 200 || res.status > 299) return;
    let made: { id?: unknown; key?: unknown; name?: unknown } | undefined;
    try {
      made = JSON.parse(res.body) as typeof made;
    } catch {
      return;
    }
    const sent = (sentBody as { name?: unknown } | undefined)?.name;
    if (typeof made?.id !== 'string' || typeof made.key !== 'string') return;
    if (typeof sent === 'string' && made.name !== sent) return;
    this.created.set(`management step ${index}`, { id: made.id, key: made.key });
  }

  private record(
    index: number,
    action: string,
    request: NonNullable<Evidence['request']> & { body?: string | undefined },
    res: HttpResponse,
    checks: Check[],
  ): void {
    this.checks.push(...checks);
    const redactHeaders = (h: Record<string, string>) =>
      Object.fromEntries(Object.entries(h).map(([n, v]) => [n, this.redact(v)]));
    this.evidence.push({
      step: index,
      action,
      request: {
        method: request.method,
        url: this.redact(request.url),
        ...(request.from && request.from !== 'default'
          ? { from: `${request.from} (${this.sourceAddress(request.from as Source) ?? 'system'})` }
          : {}),
        headers: redactHeaders(request.headers),
        ...(request.body ? { body: this.redact(request.body.slice(0, 2000)) } : {}),
      },
      response: {
        status: res.status,
        headers: redactHeaders(
          Object.fromEntries(res.rawHeaders.map(([n, v]) => [n.toLowerCase(), v])),
        ),
        body: this.redact(res.body.length > 4000 ? `${res.body.slice(0, 4000)}…` : res.body),
        reusedConnection: res.reusedConnection,
      },
    });
  }

  private redact(text: string): string {
    let out = redactSecrets(text);
    for (const secret of [...this.secrets, ...[...this.created.values()].map((c) => c.key)]) {
      if (secret.length >= 12) out = out.split(secret).join('[redacted]');
    }
    return out;
  }

  private async cleanUp(): Promise<void> {
    for (const agent of this.connections.values()) agent.destroy();
    const live = [...this.created.values()];
    await Promise.allSettled(live.map((k) => this.runner.context.api?.revoke(k.id)));
  }
}

/** The credentials a request carries in its Authorization header, to check none comes back. */
function tokensOf(headers: Record<string, string>): string[] {
  const value = headers.authorization;
  if (!value) return [];
  return value.split(/[\s,]+/).filter((part) => part.length >= 12);
}
