/**
 * Scenarios are plain data: what to send, from where, and what must come back. Values in
 * headers, query and paths may hold placeholders that are filled at run time:
 *
 * - `{{key:ROLE}}` the secret of a provisioned key (see {@link KeyRole});
 * - `{{seq:NAME}}` the secret of a key created earlier in the same sequence;
 * - `{{near-middle:ROLE}}`, `{{near-length:ROLE}}`, `{{near-case:ROLE}}`,
 *   `{{near-last:ROLE}}` a well-formed key that differs from the role's key by one
 *   character in the middle, by one in length, by the case of one letter, or in its last
 *   character; `{{near-prefix:ROLE}}` the role's key with its prefix in upper case (see
 *   `nearMiss`);
 * - `{{token:management}}` the target's management token;
 * - `{{run:id}}` the run's id, which the names of the keys a run makes begin with
 *   (`cci-conformance RUN …`), so that the sweep at its end finds them.
 *
 * Management bodies may hold them in any string.
 */

/** Where a request leaves from, mapped to a real local address on loopback targets. */
export type Source =
  | 'default'
  /** The address that `ip.allowed` keys list. */
  | 'allowed'
  /** An address on no allowlist. */
  | 'other'
  /** Inside the range that `ip.cidr` keys list. */
  | 'cidr-inside'
  /** The last address of that range. */
  | 'cidr-last'
  /** The first address after that range. */
  | 'cidr-beyond'
  /** The IPv6 loopback; needs the target's IPv6 URL. */
  | 'ipv6'
  /** A configured trusted proxy of the target. */
  | 'trusted-proxy';

/** Keys the run provisions before scenarios start, by role. */
export type KeyRole =
  | 'valid.starter'
  | 'valid.professional'
  | 'valid.enterprise'
  | 'revoked'
  | 'revoked.restricted'
  | 'ip.allowed'
  | 'ip.second'
  | 'ip.allowed.cheapest'
  | 'ip.everywhere'
  | 'ip.cidr.upper'
  | 'ip.elsewhere'
  | 'ip.elsewhere.cheapest'
  | 'ip.v6'
  | 'ip.v6.long'
  | 'ip.v6.cidr'
  | 'ip.v6.other'
  | 'ip.cidr'
  | 'ip.cidr.elsewhere'
  | (string & {});

/** One HTTP request, before placeholders are filled. */
export interface RequestSpec {
  operationId: string | null;
  method: string;
  path: string;
  query?: Record<string, string>;
  headers: Record<string, string>;
  /** Header lines sent after `headers`, also when one of them has the same name. */
  extraHeaders?: Array<[string, string]>;
  body?: unknown;
  /** A body sent as it is, with a JSON content type: for bodies that must not parse. */
  rawBody?: string;
  from: Source;
  /** Send on this named keep-alive connection, opened on first use and kept for the sequence. */
  connection?: string;
}

/** The challenge a 401 must carry (RFC 6750 §3). */
export type Challenge = 'bearer' | 'bearer-invalid-token';

export interface Expectation {
  status: number;
  /** The `error.code` of the body; absent for a success. */
  code?: string;
  /** Required on a 401; absent otherwise. */
  challenge?: Challenge;
  /**
   * Other answers that are right too, where the contract leaves the reading of a request
   * open: the one whose status came back is the one checked.
   */
  otherwise?: Expectation[];
}

/** A request and what must come back. */
export interface RequestStep {
  action: 'request';
  request: RequestSpec;
  expect: Expectation;
  /** The requirement this step proves; defaults to the scenario's. */
  requirement?: string;
  /** Only for introspection: what the response must report about the caller. */
  expectIdentity?: { clientAddress: Source; plan: string };
}

/** Create a key through the management API and remember its secret as `{{seq:NAME}}`. */
export interface CreateStep {
  action: 'create';
  name: string;
  plan: string;
  /** The account, relative to the run: keys of one sequence share it. */
  account: string;
  /** The name the key is given, after the run's own words; `name` when absent. */
  keyName?: string;
}

export interface RevokeStep {
  action: 'revoke';
  name: string;
}

/** The key listing must name these keys without ever showing their secrets. */
export interface ListStep {
  action: 'list';
  names: string[];
  requirement?: string;
}

/** A management request with a body that the management API must refuse. */
export interface ManagementStep {
  action: 'management';
  method: string;
  path: string;
  /** Sent as is when a string (to send broken JSON), else serialised; placeholders filled. */
  body?: unknown;
  expect: Expectation;
  /** What the refusal must name, in its message or in a `details` entry. */
  names?: string;
}

export type Step = RequestStep | CreateStep | RevokeStep | ListStep | ManagementStep;

/** A scenario: steps run in order; the scenario passes when every step does. */
export interface Scenario {
  /** Stable and unique, for example `getCase.revoked-key`. */
  id: string;
  /** Short, unique and plain, as the report shows it. */
  title: string;
  requirement: string;
  /** Spec family that runs it: one file per family. */
  family: Family;
  /** Playwright tags, starting with `@`. */
  tags: string[];
  /** Provisioned keys it needs. */
  roles: KeyRole[];
  /** Sources other than `default` that it sends from. */
  sources: Source[];
  /** True when it creates or revokes keys itself. */
  mutating: boolean;
  steps: Step[];
}

export type Family = 'credentials' | 'plans' | 'ip' | 'precedence' | 'lifecycle' | 'management';

export const FAMILIES: Family[] = [
  'credentials',
  'plans',
  'ip',
  'precedence',
  'lifecycle',
  'management',
];
