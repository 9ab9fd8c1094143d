import { randomBase62 } from '../secrets/keys.js';

/** The kinds of credential a flood sends; every kind but `valid` must be refused. */
export const KINDS = [
  'valid',
  'unknown',
  'malformed',
  'missing',
  'empty',
  'test',
  'revoked',
] as const;
export type Kind = (typeof KINDS)[number];

/** One valid request in three: the rest is the flood. */
const PATTERN: Kind[] = [
  'valid',
  'unknown',
  'malformed',
  'valid',
  'missing',
  'test',
  'valid',
  'revoked',
  'unknown',
  'valid',
  'malformed',
  'empty',
];

const malformed = (): string[] => [
  'Bearer nope',
  'Basic dXNlcjpwYXNzd29yZA==',
  'Bearer cci_live_short',
  `Token cci_live_${randomBase62(40)}`,
  `cci_live_${randomBase62(40)}`,
  `Bearer cci_live_${randomBase62(40)} trailing`,
  `Bearer ${'x'.repeat(2048)}`,
  'Bearer cci_live_!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
];

/** Authorization headers per kind, made once so that the flood costs the client little. */
export class CredentialMix {
  private readonly headers: Record<Kind, Array<string | undefined>>;

  constructor(valid: string, revoked: string) {
    const many = (make: () => string) => Array.from({ length: 64 }, make);
    this.headers = {
      valid: [`Bearer ${valid}`],
      unknown: many(() => `Bearer cci_live_${randomBase62(40)}`),
      malformed: malformed(),
      missing: [undefined],
      empty: [''],
      test: many(() => `Bearer cci_test_${randomBase62(40)}`),
      revoked: [`Bearer ${revoked}`],
    };
  }

  /** The kind of a client's n-th request; clients start at different places in the pattern. */
  kind(client: number, n: number): Kind {
    return PATTERN[(client + n) % PATTERN.length]!;
  }

  header(kind: Kind, n: number): string | undefined {
    const choices = this.headers[kind];
    return choices[n % choices.length];
  }
}
