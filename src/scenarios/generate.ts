import type { Faker } from '@faker-js/faker';
// The English build alone: the package root loads every locale, which every Playwright
// worker would pay for again after each failed scenario.
import { faker } from '@faker-js/faker/locale/en';
import type { Contract, Operation } from '../contract/model.js';
import type { Expectation, Family, KeyRole, RequestSpec, Scenario, Source, Step } from './model.js';
import { fakeBody, malformedCredentials } from './tokens.js';
import { UPPER_CLIENT } from '../target/addresses.js';

export interface GenerateOptions {
  /** Seeds path parameters and generated tokens; the same seed gives the same scenarios. */
  seed: number;
}

/** Requirement → profile tag, read from the catalogue. */
function profileTags(contract: Contract): Map<string, string> {
  return new Map(contract.requirements.map((r) => [r.id, `@${r.profile}`]));
}

/** Every scenario the contract implies, in a stable order. */
export function generateScenarios(contract: Contract, options: GenerateOptions): Scenario[] {
  // Seeded on every call, so the shared instance gives the same scenarios for a seed.
  faker.seed(options.seed);
  const g = new Generator(contract, faker);
  const secured = contract.operations.filter((op) => op.security === 'apiKey');
  for (const op of secured) {
    g.credentials(op);
    g.plans(op);
    g.addresses(op);
  }
  const probe = secured.find((op) => op.method === 'GET');
  if (probe) g.addressForms(probe);
  g.precedence(secured);
  g.lifecycle(secured);
  g.management(secured);
  g.managementCredential(contract.operations.filter((op) => op.security === 'managementToken'));
  return g.scenarios;
}

/**
 * A filter of the scenarios whose requirement is in one of `profiles`; all pass when none
 * are named.
 */
export function inProfiles(
  contract: Contract,
  profiles: string[],
): (scenario: Scenario) => boolean {
  const profileOf = new Map(contract.requirements.map((r) => [r.id, r.profile]));
  return (scenario) =>
    profiles.length === 0 || profiles.includes(profileOf.get(scenario.requirement) ?? '');
}

class Generator {
  readonly scenarios: Scenario[] = [];
  private readonly profiles: Map<string, string>;
  private readonly ids = new Set<string>();

  constructor(
    private readonly contract: Contract,
    private readonly faker: Faker,
  ) {
    this.profiles = profileTags(contract);
  }

  /** A request to `op` with the given Authorization header (none when undefined). */
  private request(
    op: Operation,
    authorization?: string,
    extra: Partial<RequestSpec> = {},
  ): RequestSpec {
    let path = op.pathTemplate;
    for (const [name, param] of Object.entries(op.pathParameters)) {
      const value = param.pattern
        ? this.faker.helpers.fromRegExp(param.pattern.replace(/^\^|\$$/g, ''))
        : param.example;
      path = path.replace(`{${name}}`, encodeURIComponent(value));
    }
    return {
      operationId: op.operationId,
      method: op.method,
      path,
      headers: authorization === undefined ? {} : { authorization },
      ...(op.bodyExample !== undefined ? { body: op.bodyExample } : {}),
      from: 'default',
      ...extra,
    };
  }

  private add(
    s: Omit<Scenario, 'tags' | 'roles' | 'sources' | 'mutating'> & { extraTags?: string[] },
  ) {
    if (this.ids.has(s.id)) throw new Error(`two scenarios share the id ${s.id}`);
    this.ids.add(s.id);
    const roles = new Set<KeyRole>();
    const sources = new Set<Source>();
    for (const step of s.steps) {
      const text = JSON.stringify(step);
      for (const [, role] of text.matchAll(/\{\{(?:key|near-[a-z]+):([^}]+)\}\}/g))
        roles.add(role!);
      if (step.action === 'request' && step.request.from !== 'default')
        sources.add(step.request.from);
    }
    const mutating = s.steps.some((step) => step.action !== 'request');
    const tags = [
      `@${s.family}`,
      this.profiles.get(s.requirement) ?? '@core',
      ...(s.extraTags ?? []),
    ];
    if (mutating) tags.push('@mutating');
    const { extraTags: _, ...rest } = s;
    this.scenarios.push({
      ...rest,
      tags: [...new Set(tags)],
      roles: [...roles],
      sources: [...sources],
      mutating,
    });
  }

  private single(
    family: Family,
    op: Operation | null,
    slug: string,
    title: string,
    requirement: string,
    request: RequestSpec,
    expect: Extract<Step, { action: 'request' }>['expect'],
    extraTags: string[] = [],
  ) {
    const prefix = op ? op.operationId : 'any';
    this.add({
      id: `${prefix}.${slug}`,
      title: `${prefix}: ${title}`,
      requirement,
      family,
      extraTags,
      steps: [{ action: 'request', request, expect }],
    });
  }

  private refused(code: string, sent: boolean): Expectation {
    return {
      status: this.contract.errorCodes.get(code) ?? 401,
      code,
      ...(this.contract.errorCodes.get(code) === 401
        ? { challenge: sent ? ('bearer-invalid-token' as const) : ('bearer' as const) }
        : {}),
    };
  }

  /** What an answer without a body (to HEAD) can be judged on: its status and challenge. */
  private bodiless({ code: _, ...rest }: Expectation): Expectation {
    return rest;
  }

  private ok(op: Operation): Expectation {
    return { status: op.successStatus };
  }

  /** A plan that includes `op`, the cheapest first. */
  private planFor(op: Operation): string {
    return this.contract.plans.find((plan) => op.plans.includes(plan))!;
  }

  credentials(op: Operation) {
    const key = `{{key:valid.${this.planFor(op)}}}`;
    const live = this.contract.keyFormat.livePrefix;
    const test = this.contract.keyFormat.testPrefix;
    const c = (
      slug: string,
      title: string,
      req: string,
      request: RequestSpec,
      expect: Expectation,
    ) => this.single('credentials', op, slug, title, req, request, expect, ['@credentials']);

    for (const plan of op.plans) {
      c(
        `valid-${plan}`,
        `valid ${plan} key is accepted`,
        'CRED-01',
        this.request(op, `Bearer {{key:valid.${plan}}}`),
        this.ok(op),
      );
    }
    const examples = Object.fromEntries(
      Object.entries(op.queryParameters).flatMap(([n, p]) => (p.example ? [[n, p.example]] : [])),
    );
    if (Object.keys(examples).length > 0) {
      c(
        'valid-with-query',
        "valid key with the operation's query parameters is accepted",
        'CRED-01',
        this.request(op, `Bearer ${key}`, { query: examples }),
        this.ok(op),
      );
      // The same URL right after, without a key: an answer kept by URL is not for everyone.
      const asked = this.request(op, `Bearer ${key}`, { query: examples });
      this.add({
        id: `${op.operationId}.query-answer-not-shared`,
        title: `${op.operationId}: the answer to a key is not given to a request without one`,
        requirement: 'CRED-02',
        family: 'credentials',
        extraTags: ['@credentials'],
        steps: [
          { action: 'request', request: asked, expect: this.ok(op) },
          {
            action: 'request',
            request: { ...asked, headers: {} },
            expect: this.refused('missing_api_key', false),
          },
        ],
      });
    }
    c(
      'missing-key',
      'missing key is refused',
      'CRED-02',
      this.request(op),
      this.refused('missing_api_key', false),
    );
    c(
      'empty-header',
      'empty Authorization header is refused',
      'CRED-02',
      this.request(op, ''),
      this.refused('missing_api_key', false),
    );
    for (const bad of malformedCredentials(this.faker, this.contract.keyFormat)) {
      c(
        `malformed.${bad.slug}`,
        bad.title,
        'CRED-03',
        this.request(op, bad.header),
        this.refused('malformed_api_key', true),
      );
    }
    const body = () => fakeBody(this.faker, this.contract.keyFormat.bodyMinLength + 8);
    c(
      'unknown-key',
      'well-formed unknown key is refused',
      'CRED-04',
      this.request(op, `Bearer ${live}${body()}`),
      this.refused('invalid_api_key', true),
    );
    // Near misses of a real key: refused only by a server that compares the whole secret.
    const top = `valid.${this.contract.plans.at(-1)}`;
    for (const [change, what] of [
      ['middle', 'with its middle character changed'],
      ['length', 'one character shorter or longer'],
      ['case', 'with one letter in the other case'],
      ['last', 'with its last character changed'],
    ] as const) {
      c(
        `near-key-${change}`,
        `a valid key ${what} is unknown`,
        'CRED-04',
        this.request(op, `Bearer {{near-${change}:${top}}}`),
        this.refused('invalid_api_key', true),
      );
    }
    // A real key with something around it is no key of the documented shape: a server
    // that takes the first word, trims padding or folds the prefix would accept it.
    for (const [slug, title, header] of [
      ['key-then-word', 'a valid key followed by a word is malformed', `Bearer {{key:${top}}} x`],
      [
        'key-with-padding',
        'a valid key with "==" after it is malformed',
        `Bearer {{key:${top}}}==`,
      ],
      [
        'key-prefix-upper-case',
        'a valid key with its prefix in upper case is malformed',
        `Bearer {{near-prefix:${top}}}`,
      ],
      [
        'test-prefix-short',
        'a cci_test_ prefix with a short body is malformed',
        `Bearer ${test}short`,
      ],
      // RFC 9110 §11.4: credentials = auth-scheme [ 1*SP ... ]: spaces, not a tab.
      [
        'tab-after-scheme',
        'a tab between Bearer and a valid key is malformed',
        `Bearer\t{{key:${top}}}`,
      ],
    ] as const) {
      c(
        `malformed.${slug}`,
        title,
        'CRED-03',
        this.request(op, header),
        this.refused('malformed_api_key', true),
      );
    }

    const { bodyMinLength, bodyMaxLength } = this.contract.keyFormat;
    for (const [end, length] of [
      ['minimum', bodyMinLength],
      ['maximum', bodyMaxLength],
    ] as const) {
      c(
        `unknown-key-${end}-length`,
        `unknown key of ${end} length is refused as unknown`,
        'CRED-04',
        this.request(op, `Bearer ${live}${fakeBody(this.faker, length)}`),
        this.refused('invalid_api_key', true),
      );
    }
    c(
      'test-key',
      'test key is refused',
      'CRED-05',
      this.request(op, `Bearer ${test}${body()}`),
      this.refused('test_key_not_supported', true),
    );
    c(
      'lowercase-scheme',
      'lower-case "bearer" is accepted',
      'CRED-06',
      this.request(op, `bearer ${key}`),
      this.ok(op),
    );
    c(
      'uppercase-scheme',
      'upper-case "BEARER" is accepted',
      'CRED-06',
      this.request(op, `BEARER ${key}`),
      this.ok(op),
    );
    c(
      'mixed-case-scheme',
      'mixed-case "BeArEr" is accepted',
      'CRED-06',
      this.request(op, `BeArEr ${key}`),
      this.ok(op),
    );
    // The help page names one way to send a key; other APIs' headers are not it.
    c(
      'x-api-key-header',
      'key in an X-API-Key header alone is not a credential',
      'CRED-02',
      this.request(op, undefined, { headers: { 'x-api-key': key } }),
      this.refused('missing_api_key', false),
    );
    c(
      'query-api-key',
      'key in the api_key query parameter is not accepted',
      'CRED-07',
      this.request(op, undefined, { query: { api_key: key } }),
      this.refused('missing_api_key', false),
    );
    c(
      'query-access-token',
      'key in the access_token query parameter is not accepted',
      'CRED-07',
      this.request(op, undefined, { query: { access_token: key } }),
      this.refused('missing_api_key', false),
    );
    // "or any parameter": the names other APIs use for keys.
    c(
      'query-other-names',
      'key in the key, token or apikey parameter is not accepted',
      'CRED-07',
      this.request(op, undefined, { query: { key, token: key, apikey: key } }),
      this.refused('missing_api_key', false),
    );
    c(
      'query-header-names',
      'key in an apiKey-like query parameter is not accepted',
      'CRED-07',
      this.request(op, undefined, {
        query: { authorization: `Bearer ${key}`, apiKey: key, 'api-key': key, 'x-api-key': key },
      }),
      this.refused('missing_api_key', false),
    );
    // A browser asks for HTML; the refusal is the contract's JSON all the same.
    c(
      'missing-key-html-accepted',
      'missing key with Accept: text/html still gets the JSON error',
      'ERR-01',
      this.request(op, undefined, {
        headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' },
      }),
      this.refused('missing_api_key', false),
    );
    c(
      'header-and-query',
      'key sent in header and query at once is a bad request',
      'CRED-08',
      this.request(op, `Bearer ${key}`, { query: { access_token: key } }),
      { status: 400, code: 'invalid_request' },
    );
    // Two valid keys, so that whichever one a server reads, it would answer 200.
    c(
      'two-authorization-headers',
      'two Authorization headers are a bad request',
      'CRED-09',
      this.request(op, `Bearer ${key}`, {
        extraHeaders: [['Authorization', `Bearer {{key:valid.${this.contract.plans.at(-1)}}}`]],
      }),
      { status: 400, code: 'invalid_request' },
    );
    c(
      'empty-and-valid-authorization',
      'an empty Authorization header and a valid one: bad request',
      'CRED-09',
      this.request(op, '', { extraHeaders: [['Authorization', `Bearer ${key}`]] }),
      { status: 400, code: 'invalid_request' },
    );
    // HEAD is GET without the body (RFC 9110 §9.3.2): refused the same way, with the same
    // challenge; only the status and headers can be judged.
    if (op.method === 'GET') {
      c(
        'head-missing-key',
        'HEAD without a key is refused with a challenge',
        'CRED-02',
        this.request(op, undefined, { method: 'HEAD' }),
        this.bodiless(this.refused('missing_api_key', false)),
      );
      c(
        'head-unknown-key',
        'HEAD with an unknown key is refused with a challenge',
        'CRED-04',
        this.request(op, `Bearer ${live}${body()}`, { method: 'HEAD' }),
        this.bodiless(this.refused('invalid_api_key', true)),
      );
      c(
        'head-two-authorization-headers',
        'HEAD with two Authorization headers is a bad request',
        'CRED-09',
        this.request(op, `Bearer ${key}`, {
          method: 'HEAD',
          extraHeaders: [['Authorization', `Bearer ${live}${body()}`]],
        }),
        { status: 400 },
      );
    }
    this.single(
      'lifecycle',
      op,
      'revoked-key',
      'revoked key is refused',
      'LIFE-01',
      this.request(op, 'Bearer {{key:revoked}}'),
      this.refused('revoked_api_key', true),
      ['@revocation'],
    );
  }

  plans(op: Operation) {
    for (const plan of this.contract.plans.filter((p) => !op.plans.includes(p))) {
      this.single(
        'plans',
        op,
        `outside-${plan}`,
        `${plan} key is refused: not in its plan`,
        'PLAN-01',
        this.request(op, `Bearer {{key:valid.${plan}}}`),
        this.refused('plan_restricted', true),
      );
      // HEAD is GET without the body (RFC 9110 §9.3.2): it is refused the same way.
      if (op.method === 'GET' && plan === this.contract.plans[0]) {
        this.single(
          'plans',
          op,
          `head-outside-${plan}`,
          `HEAD with a ${plan} key is refused too`,
          'PLAN-01',
          this.request(op, `Bearer {{key:valid.${plan}}}`, { method: 'HEAD' }),
          { status: this.contract.errorCodes.get('plan_restricted') ?? 403 },
        );
      }
    }
  }

  /** An `@ip` scenario: `role`'s key on `op` from `from`, admitted or refused. */
  private ipScenario(op: Operation) {
    return (
      slug: string,
      title: string,
      req: string,
      role: string,
      from: Source,
      allowed: boolean,
      extra: Partial<RequestSpec> = {},
    ) =>
      this.single(
        'ip',
        op,
        slug,
        title,
        req,
        this.request(op, `Bearer {{key:${role}}}`, { from, ...extra }),
        allowed ? this.ok(op) : this.refused('ip_not_allowed', true),
      );
  }

  addresses(op: Operation) {
    const ip = this.ipScenario(op);
    ip(
      'ip-allowed',
      'allowlisted key works from its address',
      'IP-01',
      'ip.allowed',
      'allowed',
      true,
    );
    ip(
      'ip-other-source',
      'allowlisted key is refused from another address',
      'IP-01',
      'ip.allowed',
      'other',
      false,
    );
    ip(
      'ip-elsewhere',
      'key allowlisted elsewhere is refused',
      'IP-01',
      'ip.elsewhere',
      'default',
      false,
    );
    ip('ipv6-allowed', 'IPv6 allowlist entry admits its address', 'IP-02', 'ip.v6', 'ipv6', true);
    ip(
      'ipv6-other-source',
      'IPv6-only key is refused over IPv4',
      'IP-02',
      'ip.v6',
      'default',
      false,
    );
    if (op.method === 'GET') {
      this.single(
        'ip',
        op,
        'head-ip-other-source',
        'HEAD from an address off the allowlist is refused too',
        'IP-01',
        this.request(op, 'Bearer {{key:ip.allowed}}', { from: 'other', method: 'HEAD' }),
        { status: this.contract.errorCodes.get('ip_not_allowed') ?? 403 },
      );
    }
    ip(
      'ipv4-allowlist-from-ipv6',
      'IPv4-only allowlist refuses an IPv6 client',
      'IP-01',
      'ip.allowed',
      'ipv6',
      false,
    );
    ip(
      'cidr-inside',
      'CIDR allowlist admits an address inside',
      'IP-03',
      'ip.cidr',
      'cidr-inside',
      true,
    );
    ip(
      'cidr-last',
      'CIDR allowlist admits the last address of its range',
      'IP-03',
      'ip.cidr',
      'cidr-last',
      true,
    );
    ip(
      'cidr-beyond',
      'CIDR allowlist refuses the first address past its range',
      'IP-03',
      'ip.cidr',
      'cidr-beyond',
      false,
    );
    ip(
      'cidr-outside',
      'CIDR allowlist refuses an address outside',
      'IP-03',
      'ip.cidr',
      'other',
      false,
    );
    ip(
      'cidr-elsewhere',
      'key allowlisted to a range elsewhere is refused',
      'IP-03',
      'ip.cidr.elsewhere',
      'default',
      false,
    );
    const forwarded = { 'x-forwarded-for': '{{address:elsewhere}}' };
    const withHeader = (from: Source) => ({
      from,
      headers: { authorization: 'Bearer {{key:ip.elsewhere}}', ...forwarded },
    });
    ip(
      'forwarded-spoofed',
      'spoofed X-Forwarded-For does not pass the allowlist',
      'IP-04',
      'ip.elsewhere',
      'default',
      false,
      withHeader('default'),
    );
    ip(
      'forwarded-trusted-proxy',
      'X-Forwarded-For from a trusted proxy is believed',
      'IP-04',
      'ip.elsewhere',
      'trusted-proxy',
      true,
      withHeader('trusted-proxy'),
    );
    // From the trusted proxy, the allowed address followed by a hop the proxy wrote: the
    // client is that last hop, never the sender-written address to its left.
    const proxied = (slug: string, title: string, lastHop: string) =>
      ip(slug, title, 'IP-04', 'ip.elsewhere', 'trusted-proxy', false, {
        from: 'trusted-proxy',
        headers: {
          authorization: 'Bearer {{key:ip.elsewhere}}',
          'x-forwarded-for': `{{address:elsewhere}}, ${lastHop}`,
        },
      });
    proxied(
      'forwarded-rightmost-client',
      'X-Forwarded-For is read from the right, not the left',
      '203.0.113.77',
    );
    proxied(
      'forwarded-unreadable-hop',
      "a trusted proxy's hop that is not an address is not skipped",
      'unknown',
    );
  }

  /**
   * The many ways an allowlist is written and a client named, on one operation: what a
   * server must read alike whatever the route, so once is enough.
   */
  addressForms(op: Operation) {
    const ip = this.ipScenario(op);
    ip(
      'ip-second-entry',
      'the second allowlist entry admits its address',
      'IP-01',
      'ip.second',
      'allowed',
      true,
    );
    ip(
      'ip-everywhere',
      'an allowlist of 0.0.0.0/0 admits every address',
      'IP-03',
      'ip.everywhere',
      'default',
      true,
    );
    ip(
      'ipv6-long-form',
      'an IPv6 entry written out in full admits [::1]',
      'IP-02',
      'ip.v6.long',
      'ipv6',
      true,
    );
    ip(
      'ipv6-cidr',
      'an IPv6 range admits an address inside it',
      'IP-03',
      'ip.v6.cidr',
      'ipv6',
      true,
    );
    ip(
      'ipv6-other-address',
      'an IPv6 entry of another address refuses [::1]',
      'IP-02',
      'ip.v6.other',
      'ipv6',
      false,
    );
    // Other headers that name a client are believed from no one: only X-Forwarded-For,
    // and only from a trusted proxy (IP-04).
    ip(
      'client-named-by-other-headers',
      'X-Real-IP, Forwarded, True-Client-IP are not believed',
      'IP-01',
      'ip.elsewhere',
      'default',
      false,
      {
        headers: {
          authorization: 'Bearer {{key:ip.elsewhere}}',
          'x-real-ip': '{{address:elsewhere}}',
          forwarded: 'for={{address:elsewhere}}',
          'true-client-ip': '{{address:elsewhere}}',
        },
      },
    );
    // From the trusted proxy: hops on two header lines are one list (RFC 9110 §5.3), and
    // an obfuscated identifier (RFC 7239 §6.3) is no address either.
    ip(
      'forwarded-two-lines',
      'X-Forwarded-For on two lines is read from the right of both',
      'IP-04',
      'ip.elsewhere',
      'trusted-proxy',
      false,
      {
        headers: {
          authorization: 'Bearer {{key:ip.elsewhere}}',
          'x-forwarded-for': '{{address:elsewhere}}',
        },
        extraHeaders: [['X-Forwarded-For', '203.0.113.77']],
      },
    );
    ip(
      'forwarded-obfuscated-hop',
      "a trusted proxy's obfuscated hop is not skipped",
      'IP-04',
      'ip.elsewhere',
      'trusted-proxy',
      false,
      {
        headers: {
          authorization: 'Bearer {{key:ip.elsewhere}}',
          'x-forwarded-for': '{{address:elsewhere}}, _hidden',
        },
      },
    );
    ip(
      'cidr-upper-range',
      'a range above 128.0.0.0 admits a client inside it',
      'IP-03',
      'ip.cidr.upper',
      'trusted-proxy',
      true,
      {
        headers: { authorization: 'Bearer {{key:ip.cidr.upper}}', 'x-forwarded-for': UPPER_CLIENT },
      },
    );
    // The plan is checked whatever else passed: an allowlisted key, or a client on IPv6.
    const [cheapest] = this.contract.plans;
    const outside = this.contract.operations.filter(
      (o) => o.security === 'apiKey' && o.method === 'GET' && !o.plans.includes(cheapest!),
    )[0];
    if (outside) {
      const refused = this.refused('plan_restricted', true);
      this.single(
        'plans',
        outside,
        'outside-plan-allowlisted',
        'an allowlisted cheapest-plan key is refused: not in its plan',
        'PLAN-01',
        this.request(outside, 'Bearer {{key:ip.allowed.cheapest}}', { from: 'allowed' }),
        refused,
      );
      // A letter of the path percent-encoded is the same URI (RFC 3986 §6.2.2.2). A server
      // may route it to the operation, and must then check the plan, or to nothing (404).
      const encoded = encodeOneLetter(this.request(outside).path);
      if (encoded) {
        this.single(
          'plans',
          outside,
          'outside-plan-encoded-path',
          'a percent-encoded letter in the path does not skip the plan',
          'PLAN-01',
          { ...this.request(outside, `Bearer {{key:valid.${cheapest}}}`), path: encoded },
          { ...refused, otherwise: [{ status: 404, code: 'not_found' }] },
        );
      }
      this.single(
        'plans',
        outside,
        'outside-plan-ipv6',
        'a cheapest-plan key over IPv6 is refused: not in its plan',
        'PLAN-01',
        this.request(outside, `Bearer {{key:valid.${cheapest}}}`, { from: 'ipv6' }),
        refused,
      );
    }
  }

  precedence(ops: Operation[]) {
    const [cheapest] = this.contract.plans;
    const restricted = ops.filter((op) => !op.plans.includes(cheapest!));
    for (const op of restricted) {
      this.single(
        'precedence',
        op,
        'revoked-before-address-and-plan',
        'revoked key is refused before address and plan',
        'ORDER-01',
        this.request(op, 'Bearer {{key:revoked.restricted}}'),
        this.refused('revoked_api_key', true),
      );
      this.single(
        'precedence',
        op,
        'address-before-plan',
        'refused address is reported before plan',
        'ORDER-02',
        this.request(op, 'Bearer {{key:ip.elsewhere.cheapest}}'),
        this.refused('ip_not_allowed', true),
      );
    }
    const suffix = this.faker.string.alphanumeric({ length: 6, casing: 'lower' });
    const unknown = `/v1/${this.faker.word.noun()}-${suffix}`;
    const route = {
      operationId: null,
      method: 'GET',
      path: unknown,
      headers: {},
      from: 'default' as Source,
    };
    // A fresh well-formed key each call, as each scenario draws its own from the seed.
    const unknownKey = () =>
      `Bearer ${this.contract.keyFormat.livePrefix}${fakeBody(this.faker, 40)}`;
    const any = (slug: string, title: string, request: RequestSpec, expect: Expectation) =>
      this.single('precedence', null, slug, title, 'ORDER-03', request, expect);
    any(
      'unknown-route-missing-key',
      'unknown path without a key gets 401, not 404',
      route,
      this.refused('missing_api_key', false),
    );
    any(
      'unknown-route-malformed-key',
      'unknown path with a malformed key gets 401',
      { ...route, headers: { authorization: 'Bearer nope' } },
      this.refused('malformed_api_key', true),
    );
    any(
      'unknown-route-unknown-key',
      'unknown path with an unknown key gets 401',
      {
        ...route,
        headers: { authorization: unknownKey() },
      },
      this.refused('invalid_api_key', true),
    );
    // Frameworks answer an undecodable path, or a body that does not parse, themselves,
    // before any hook of the application has run; the contract puts the key first.
    any(
      'undecodable-path-missing-key',
      'undecodable path without a key gets 401, not 400',
      { ...route, path: `${unknown}%ZZ` },
      this.refused('missing_api_key', false),
    );
    const unparsable = '{"query": ';
    any(
      'unknown-route-bad-body-missing-key',
      'unparsable body to an unknown path without a key gets 401',
      { ...route, method: 'POST', rawBody: unparsable },
      this.refused('missing_api_key', false),
    );
    any(
      'unknown-route-bad-body-unknown-key',
      'unparsable body with an unknown key gets 401, not 400',
      {
        ...route,
        method: 'POST',
        rawBody: unparsable,
        headers: { authorization: unknownKey() },
      },
      this.refused('invalid_api_key', true),
    );
    // The address comes before the route (precedence 2 before 3): from elsewhere, a key
    // learns nothing of which paths exist.
    this.single(
      'precedence',
      null,
      'unknown-route-refused-address',
      'unknown path with a key from a refused address gets 403',
      'IP-01',
      { ...route, headers: { authorization: 'Bearer {{key:ip.elsewhere}}' } },
      this.refused('ip_not_allowed', true),
    );
    any(
      'unknown-route-revoked-key',
      'unknown path with a revoked key gets 401, not 404',
      { ...route, headers: { authorization: 'Bearer {{key:revoked}}' } },
      this.refused('revoked_api_key', true),
    );
    this.single(
      'precedence',
      null,
      'unknown-route-two-authorization-headers',
      'unknown path with two Authorization headers gets 400',
      'CRED-09',
      {
        ...route,
        headers: { authorization: 'Bearer {{key:valid.enterprise}}' },
        extraHeaders: [['Authorization', 'Bearer {{key:valid.starter}}']],
      },
      { status: 400, code: 'invalid_request' },
    );
    for (const op of ops.filter((o) => o.bodyExample !== undefined)) {
      const { body: _, ...request } = this.request(op);
      this.single(
        'precedence',
        op,
        'bad-body-missing-key',
        'unparsable body without a key gets 401, not 400',
        'ORDER-03',
        { ...request, rawBody: unparsable },
        this.refused('missing_api_key', false),
      );
    }
    const known = ops[0]!;
    any(
      'unknown-method-missing-key',
      'unsupported method without a key gets 401',
      {
        ...this.request(known),
        operationId: null,
        method: known.method === 'DELETE' ? 'PATCH' : 'DELETE',
      },
      this.refused('missing_api_key', false),
    );
    any(
      'unknown-route-valid-key',
      'unknown path with a valid key gets 404',
      {
        ...route,
        headers: { authorization: 'Bearer {{key:valid.enterprise}}' },
      },
      { status: 404, code: 'not_found' },
    );
    const other = (
      slug: string,
      title: string,
      req: string,
      request: RequestSpec,
      e: Expectation,
    ) => this.single('precedence', null, slug, title, req, request, e);
    // Off the routes, the same credential rules hold: the gate of unknown paths is often
    // a second one, and must agree with the first.
    other(
      'unknown-route-lowercase-scheme',
      'unknown path with a valid key and "bearer" gets 404',
      'CRED-06',
      { ...route, headers: { authorization: 'bearer {{key:valid.enterprise}}' } },
      { status: 404, code: 'not_found' },
    );
    other(
      'unknown-route-test-key',
      'unknown path with a test key gets 401',
      'CRED-05',
      {
        ...route,
        headers: {
          authorization: `Bearer ${this.contract.keyFormat.testPrefix}${fakeBody(this.faker, 40)}`,
        },
      },
      this.refused('test_key_not_supported', true),
    );
    any(
      'undecodable-path-unknown-key',
      'undecodable path with an unknown key gets 401 invalid_api_key',
      { ...route, path: `${unknown}%ZZ`, headers: { authorization: unknownKey() } },
      this.refused('invalid_api_key', true),
    );
    any(
      'undecodable-path-valid-key',
      'undecodable path with a valid key gets 404',
      {
        ...route,
        path: `${unknown}%ZZ`,
        headers: { authorization: 'Bearer {{key:valid.enterprise}}' },
      },
      { status: 404, code: 'not_found' },
    );
    any(
      'non-utf8-path-missing-key',
      'path whose escapes are not UTF-8 without a key gets 401',
      { ...route, path: `${unknown}%FF` },
      this.refused('missing_api_key', false),
    );
    any(
      'head-unknown-route-missing-key',
      'HEAD to an unknown path without a key gets 401',
      { ...route, method: 'HEAD' },
      this.bodiless(this.refused('missing_api_key', false)),
    );
    const knownPath = this.request(known);
    any(
      'trailing-slash-missing-key',
      'a known path with a trailing slash, without a key, gets 401',
      { ...knownPath, operationId: null, path: `${knownPath.path}/` },
      this.refused('missing_api_key', false),
    );
    for (const method of ['PUT', 'PATCH', 'OPTIONS'].filter((m) => m !== known.method)) {
      const { body: _, ...request } = knownPath;
      any(
        `${method.toLowerCase()}-known-path-missing-key`,
        `${method} to a known path without a key gets 401`,
        { ...request, operationId: null, method },
        this.refused('missing_api_key', false),
      );
    }
    for (const op of ops.filter((o) => o.bodyExample !== undefined)) {
      const { body: _, ...request } = this.request(op, unknownKey());
      this.single(
        'precedence',
        op,
        'bad-body-unknown-key',
        'unparsable body with an unknown key gets 401, not 400',
        'ORDER-03',
        { ...request, rawBody: unparsable },
        this.refused('invalid_api_key', true),
      );
    }
    // A query parameter out of its range is no reason to answer before the key is checked.
    for (const op of ops) {
      const limited = Object.entries(op.queryParameters).find(([, p]) => p.maximum !== undefined);
      if (!limited) continue;
      const [name, { maximum }] = limited;
      this.single(
        'precedence',
        op,
        'out-of-range-query-missing-key',
        `${name} out of range without a key gets 401, not 400`,
        'ORDER-01',
        this.request(op, undefined, { query: { [name]: String(maximum! * 5) } }),
        this.refused('missing_api_key', false),
      );
    }
  }

  lifecycle(ops: Operation[]) {
    const top = this.contract.plans.at(-1)!;
    const op = ops.find((o) => o.plans.includes(top) && o.method === 'GET') ?? ops[0]!;
    const call = (name: string, connection?: string, requirement?: string): Step => ({
      action: 'request',
      request: this.request(op, `Bearer {{seq:${name}}}`, connection ? { connection } : {}),
      expect: this.ok(op),
      ...(requirement ? { requirement } : {}),
    });
    const refusedCall = (name: string, connection?: string): Step => ({
      action: 'request',
      request: this.request(op, `Bearer {{seq:${name}}}`, connection ? { connection } : {}),
      expect: this.refused('revoked_api_key', true),
    });
    const create = (name: string, account = 'main', keyName?: string): Step => ({
      action: 'create',
      name,
      plan: top,
      account,
      ...(keyName ? { keyName } : {}),
    });
    const revoke = (name: string): Step => ({ action: 'revoke', name });
    const seq = (id: string, title: string, requirement: string, tags: string[], steps: Step[]) =>
      this.add({
        id: `sequence.${id}`,
        title,
        requirement,
        family: 'lifecycle',
        extraTags: tags,
        steps,
      });

    seq(
      'revocation-next-request',
      'revoked key is refused on the very next request',
      'LIFE-02',
      ['@revocation'],
      [create('key'), call('key'), revoke('key'), refusedCall('key')],
    );
    // Ten answers first: a cache that admits only keys seen often would hold this one.
    seq(
      'revocation-hot-key',
      'revoked key used ten times before is refused on the next request',
      'LIFE-02',
      ['@revocation'],
      [
        create('key'),
        ...Array.from({ length: 10 }, () => call('key')),
        revoke('key'),
        refusedCall('key'),
      ],
    );
    // Every operation of the top plan, each asked before the revocation and after: a cache
    // of answers, or of admissions, on some routes would keep a revoked key working there.
    // The same URL before and after, as a cache would key its answers.
    const gets = ops
      .filter((o) => o.plans.includes(top))
      .map((o) => ({ o, request: this.request(o, 'Bearer {{seq:key}}') }));
    const before: Step[] = gets.map(({ o, request }) => ({
      action: 'request',
      request,
      expect: this.ok(o),
    }));
    const after: Step[] = gets.map(({ request }) => ({
      action: 'request',
      request,
      expect: this.refused('revoked_api_key', true),
    }));
    seq(
      'revocation-every-route',
      'revoked key is refused at once on every route it used',
      'LIFE-02',
      ['@revocation'],
      [create('key'), ...before, revoke('key'), ...after],
    );
    seq(
      'revocation-keep-alive',
      'revoked key is refused on a connection opened before',
      'LIFE-02',
      ['@revocation'],
      [
        create('key'),
        call('key', 'kept'),
        call('key', 'kept'),
        revoke('key'),
        refusedCall('key', 'kept'),
      ],
    );
    seq(
      'revocation-every-connection',
      'revoked key is refused on every open connection',
      'LIFE-02',
      ['@revocation'],
      [
        create('key'),
        call('key', 'a'),
        call('key', 'b'),
        call('key', 'c'),
        revoke('key'),
        refusedCall('key', 'c'),
        refusedCall('key', 'b'),
        refusedCall('key', 'a'),
      ],
    );
    seq(
      'rotation',
      'rotation keeps both keys working until the old is revoked',
      'LIFE-03',
      ['@rotation'],
      [
        create('old'),
        call('old', 'app'),
        create('new'),
        call('new', 'app'),
        call('old', 'app'),
        call('new', 'app'),
        revoke('old'),
        refusedCall('old', 'app'),
        call('new', 'app'),
      ],
    );
    seq(
      'independence',
      "revoking one key leaves the account's others working",
      'LIFE-04',
      ['@independence'],
      [
        create('web'),
        create('batch'),
        create('mobile'),
        call('web'),
        call('batch'),
        call('mobile'),
        revoke('batch'),
        call('web'),
        refusedCall('batch'),
        call('mobile'),
        { action: 'list', names: ['web', 'batch', 'mobile'], requirement: 'LIFE-04' },
      ],
    ); // Names are labels, not identities: two keys may share one (the contract sets no rule
    // against it), and a rotation often gives the new key the old one's name.
    seq(
      'rotation-same-name',
      'rotation to a key of the same name keeps both working until the old is revoked',
      'LIFE-03',
      ['@rotation'],
      [
        create('old', 'main', 'app'),
        call('old'),
        create('new', 'main', 'app'),
        call('old'),
        call('new'),
        revoke('old'),
        refusedCall('old'),
        call('new'),
      ],
    );
    seq(
      'independence-same-name',
      'revoking one of two keys of the same name leaves the other working',
      'LIFE-04',
      ['@independence'],
      [
        create('first', 'main', 'twin'),
        create('second', 'main', 'twin'),
        call('first'),
        call('second'),
        revoke('first'),
        call('second'),
        refusedCall('first'),
      ],
    );
  }

  /**
   * MGMT-04: the key-management operations answer only to their own credential. The
   * requests are harmless even to a target that wrongly accepts them: the creation's body
   * is invalid and the revocation names no key.
   */
  managementCredential(ops: Operation[]) {
    const top = this.contract.plans.at(-1)!;
    const cases: Array<[string, string, string | undefined, Expectation]> = [
      [
        'no-credential',
        'refused without the management credential',
        undefined,
        this.refused('missing_api_key', false),
      ],
      [
        'wrong-credential',
        'refused with a wrong credential',
        `Bearer ${this.faker.string.alphanumeric(40)}`,
        this.refused('invalid_api_key', true),
      ],
      [
        'api-key-credential',
        'refused with an API key',
        `Bearer {{key:valid.${top}}}`,
        this.refused('invalid_api_key', true),
      ],
      // Near misses of the real token: refused only by a server that compares all of it.
      [
        'near-token-last',
        "refused with the token's last letter changed",
        'Bearer {{token:management.near-last}}',
        this.refused('invalid_api_key', true),
      ],
      [
        'near-token-case',
        "refused with one token letter's case swapped",
        'Bearer {{token:management.near-case}}',
        this.refused('invalid_api_key', true),
      ],
    ];
    for (const op of ops) {
      const post = op.method.toUpperCase() === 'POST';
      const extra = post ? { body: { name: '', plan: top } } : {};
      for (const [slug, title, auth, expect] of cases) {
        const request = this.request(op, auth, extra);
        this.single('management', op, slug, title, 'MGMT-04', request, expect);
      }
      if (post) {
        // The credential is checked before the body is read, so a broken body changes nothing.
        for (const [slug, title, auth, expect] of cases) {
          const { body: _, ...request } = this.request(op, auth);
          this.single(
            'management',
            op,
            `${slug}-bad-body`,
            `${title}, before a broken body`,
            'MGMT-04',
            { ...request, rawBody: '{"name": ' },
            expect,
          );
        }
      }
      // As API keys (CRED-07), the management token is no credential in a query string,
      // where proxies and access logs keep it.
      this.single(
        'management',
        op,
        'token-in-query',
        'refused with the token in the query string only',
        'MGMT-04',
        this.request(op, undefined, { ...extra, query: { access_token: '{{token:management}}' } }),
        this.refused('missing_api_key', false),
      );
      // Beside the header, the same token in the query string is a second method (CRED-08).
      // Not for the creation: its body is invalid, so a server that served the request
      // would answer 400 invalid_request all the same.
      if (!post) {
        this.single(
          'management',
          op,
          'header-and-query',
          'token sent in header and query at once is a bad request',
          'CRED-08',
          this.request(op, 'Bearer {{token:management}}', {
            query: { access_token: '{{token:management}}' },
          }),
          { status: 400, code: 'invalid_request' },
        );
      }
      this.single(
        'management',
        op,
        'two-authorization-headers',
        'two Authorization headers are a bad request',
        'CRED-09',
        this.request(op, `Bearer {{key:valid.${top}}}`, {
          ...extra,
          extraHeaders: [['Authorization', `Bearer {{key:valid.${top}}}`]],
        }),
        { status: 400, code: 'invalid_request' },
      );
    }
  }

  management(ops: Operation[]) {
    const whoami = ops.find((op) => op.operationId === 'getCallerIdentity');
    if (whoami) {
      this.add({
        id: 'management.introspection',
        title: 'introspection reports the key, plan and address',
        requirement: 'MGMT-03',
        family: 'management',
        steps: [
          {
            action: 'request',
            request: this.request(whoami, 'Bearer {{key:ip.allowed}}', { from: 'allowed' }),
            expect: this.ok(whoami),
            expectIdentity: { clientAddress: 'allowed', plan: this.contract.plans.at(-1)! },
          },
        ],
      });
    }
    this.add({
      id: 'management.list-hides-secrets',
      title: 'key list never shows a secret',
      requirement: 'MGMT-01',
      family: 'management',
      steps: [
        { action: 'create', name: 'listed', plan: this.contract.plans[0]!, account: 'main' },
        { action: 'list', names: ['listed'] },
      ],
    });
    const bad = (
      slug: string,
      title: string,
      body: unknown,
      names: string | undefined,
      method = 'POST',
      path = '/v1/keys',
      status = 400,
    ) =>
      this.add({
        id: `management.${slug}`,
        title,
        requirement: 'MGMT-02',
        family: 'management',
        steps: [
          {
            action: 'management',
            method,
            path,
            body,
            expect: { status, code: status === 404 ? 'key_not_found' : 'invalid_request' },
            ...(names ? { names } : {}),
          },
        ],
      });
    const plan = this.contract.plans[0]!;
    bad('empty-name', 'key with an empty name is refused', { name: '', plan }, 'name');
    // Names begin as the run's own keys do: a key that a broken target makes from them all
    // the same is found and revoked by the sweep at the end of the run, even an interrupted one.
    const named = (what: string) => `cci-conformance {{run:id}} bad ${what}`;
    const overlong = { name: `${named('name')} ${'n'.repeat(101)}`, plan };
    bad('overlong-name', 'key with an overlong name is refused', overlong, 'name');
    bad(
      'unknown-plan',
      'key with an unknown plan is refused',
      { name: named('plan'), plan: 'platinum' },
      'plan',
    );
    bad(
      'invalid-cidr',
      'key with an invalid CIDR range is refused',
      { name: named('cidr'), plan, allowedIps: ['198.51.100.0/33'] },
      'allowedIps',
    );
    bad(
      'invalid-address',
      'key with an invalid address is refused',
      { name: named('address'), plan, allowedIps: ['203.0.113.300'] },
      'allowedIps',
    );
    // A misspelt field (allowedIPs) dropped in silence would make a key with no allowlist.
    bad(
      'unknown-field',
      'key with a field the request does not have is refused',
      { name: named('field'), plan, allowedIPs: ['198.51.100.7'] },
      'allowedIPs',
    );
    bad('missing-name', 'key without a name is refused', { plan }, 'name');
    bad('missing-plan', 'key without a plan is refused', { name: named('no plan') }, 'plan');
    // An empty entry dropped in silence would leave a key open to every address.
    bad(
      'empty-address',
      'key with an empty allowlist entry is refused',
      { name: named('entry'), plan, allowedIps: [''] },
      'allowedIps',
    );
    bad(
      'invalid-account',
      'key with an account id of another form is refused',
      { name: named('account'), plan, accountId: 'Main Account' },
      'accountId',
    );
    bad(
      'list-invalid-account',
      'listing by an account id of another form is refused',
      undefined,
      'accountId',
      'GET',
      '/v1/keys?accountId=Main%20Account',
    );
    const broken = '{"name": "cci-conformance", "plan":';
    // Broken JSON has no field to name, and how the message words it is free.
    bad('malformed-json', 'malformed JSON body is refused', broken, undefined);
    const unknownId = `/v1/keys/key_${this.faker.string.alphanumeric(16)}`;
    bad(
      'unknown-key-id',
      'revoking an unknown key id gets 404',
      undefined,
      undefined,
      'DELETE',
      unknownId,
      404,
    );
    bad(
      'unknown-key-id-other-form',
      'revoking an id of another form gets 404 too',
      undefined,
      undefined,
      'DELETE',
      `/v1/keys/${this.faker.word.noun()}`,
      404,
    );
  }
}

/** `path` with the first letter of its last segment percent-encoded, if it has one. */
function encodeOneLetter(path: string): string | undefined {
  const at = path.lastIndexOf('/') + 1;
  const letter = path.slice(at).search(/[a-z]/i);
  if (letter < 0) return undefined;
  const i = at + letter;
  const hex = path.charCodeAt(i).toString(16).toUpperCase();
  return `${path.slice(0, i)}%${hex}${path.slice(i + 1)}`;
}
