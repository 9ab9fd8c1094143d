import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { OpenAPIV3_1 } from 'openapi-types';
import { parseDocument } from 'yaml';
import { ContractError } from './errors.js';
import type {
  Contract,
  KeyFormat,
  Operation,
  Profile,
  Requirement,
  SecurityKind,
} from './model.js';

/** The contract this suite ships with. */
export const DEFAULT_CONTRACT_PATH = fileURLToPath(
  new URL('../../openapi/cci-auth.openapi.yaml', import.meta.url),
);

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;

type Json = Record<string, unknown>;

const cache = new Map<string, Contract>();

/** Load, check and index the contract at `file`; the same file is read once per process. */
export function loadContract(file: string = DEFAULT_CONTRACT_PATH): Contract {
  const cached = cache.get(file);
  if (cached) return cached;
  const contract = parseContract(readSource(file), file);
  cache.set(file, contract);
  return contract;
}

function readSource(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ContractError('contract_unreadable', file, `cannot read the contract (${reason})`);
  }
}

/** Check and index a contract given as YAML or JSON text; `file` names it in errors. */
export function parseContract(text: string, file: string): Contract {
  const parsed = parseDocument(text, { prettyErrors: false });
  if (parsed.errors.length > 0) {
    const first = parsed.errors[0]!;
    const [line, col] = first.linePos?.[0] ? [first.linePos[0].line, first.linePos[0].col] : [0, 0];
    throw new ContractError(
      'contract_not_yaml',
      `${file}:${line}:${col}`,
      first.message.split('\n')[0]!,
    );
  }
  const doc = parsed.toJS() as unknown;
  const at = new Pointer(file, doc);

  const root = at.object('');
  const openapi = at.string('/openapi');
  if (!/^3\.1\.\d+$/.test(openapi))
    at.fail('/openapi', `expected an OpenAPI 3.1 document, found ${openapi}`);
  at.object('/paths');
  at.object('/components/schemas');
  at.object('/components/securitySchemes');

  const plans = at.array('/x-cci-plans').map((_, i) => at.string(`/x-cci-plans/${i}/id`));
  const profiles = readProfiles(at);
  const requirements = readRequirements(at, new Set(profiles.map((p) => p.id)));
  const errorCodes = readErrorCodes(at);
  const operations = readOperations(at, new Set(plans));

  return {
    file,
    sha256: createHash('sha256').update(text).digest('hex'),
    version: at.string('/info/version'),
    document: root as unknown as OpenAPIV3_1.Document,
    realm: at.string('/x-cci-realm'),
    keyFormat: readKeyFormat(at),
    plans,
    profiles,
    requirements,
    errorCodes,
    operations,
  };
}

function readKeyFormat(at: Pointer): KeyFormat {
  const base = '/x-cci-key-format';
  const source = at.string(`${base}/pattern`);
  let pattern: RegExp;
  try {
    pattern = new RegExp(source);
  } catch {
    return at.fail(`${base}/pattern`, `not a valid regular expression: ${source}`);
  }
  return {
    livePrefix: at.string(`${base}/livePrefix`),
    testPrefix: at.string(`${base}/testPrefix`),
    bodyMinLength: at.integer(`${base}/bodyMinLength`),
    bodyMaxLength: at.integer(`${base}/bodyMaxLength`),
    pattern,
  };
}

function readProfiles(at: Pointer): Profile[] {
  return at.array('/x-cci-profiles').map((_, i) => ({
    id: at.string(`/x-cci-profiles/${i}/id`),
    title: at.string(`/x-cci-profiles/${i}/title`),
    description: at.string(`/x-cci-profiles/${i}/description`),
  }));
}

function readRequirements(at: Pointer, profiles: Set<string>): Requirement[] {
  const seen = new Set<string>();
  return at.array('/x-cci-requirements').map((_, i) => {
    const base = `/x-cci-requirements/${i}`;
    const id = at.string(`${base}/id`);
    if (seen.has(id)) at.fail(`${base}/id`, `requirement ${id} is listed twice`);
    seen.add(id);
    const level = at.string(`${base}/level`);
    if (level !== 'MUST' && level !== 'SHOULD')
      at.fail(`${base}/level`, `expected MUST or SHOULD, found ${level}`);
    const profile = at.string(`${base}/profile`);
    if (!profiles.has(profile)) at.fail(`${base}/profile`, `unknown profile ${profile}`);
    return {
      id,
      level,
      profile,
      text: at.string(`${base}/text`),
      source: at.string(`${base}/source`),
    };
  });
}

function readErrorCodes(at: Pointer): Map<string, number> {
  const base = '/components/schemas/ErrorCode';
  const status = at.object(`${base}/x-cci-status`);
  const codes = new Map<string, number>();
  at.array(`${base}/enum`).forEach((_, i) => {
    const code = at.string(`${base}/enum/${i}`);
    const value = status[code];
    if (typeof value !== 'number')
      at.fail(`${base}/x-cci-status/${code}`, 'every error code needs its status');
    codes.set(code, value);
  });
  return codes;
}

function readOperations(at: Pointer, plans: Set<string>): Operation[] {
  const operations: Operation[] = [];
  const defaultSecurity = securityOf(at, '/security');
  for (const pathTemplate of Object.keys(at.object('/paths'))) {
    const itemPointer = `/paths/${escapePointer(pathTemplate)}`;
    const item = at.object(itemPointer);
    for (const method of METHODS) {
      if (!(method in item)) continue;
      const base = `${itemPointer}/${method}`;
      const operationId = at.string(`${base}/operationId`);
      const security = at.has(`${base}/security`)
        ? securityOf(at, `${base}/security`)
        : defaultSecurity;
      const operationPlans =
        security === 'apiKey' ? readPlans(at, `${base}/x-cci-plans`, plans) : [];
      operations.push({
        operationId,
        method: method.toUpperCase(),
        pathTemplate,
        security,
        plans: operationPlans,
        pathParameters: readPathParameters(at, base, pathTemplate),
        queryParameters: readQueryParameters(at, base),
        bodyExample: at.has(`${base}/requestBody`)
          ? at.get(`${base}/requestBody/content/application~1json/example`)
          : undefined,
        successStatus: readSuccessStatus(at, `${base}/responses`),
      });
    }
  }
  return operations;
}

function securityOf(at: Pointer, pointer: string): SecurityKind {
  const requirements = at.array(pointer);
  if (requirements.length === 0) return 'none';
  const names = Object.keys(at.object(`${pointer}/0`));
  const name = names[0];
  if (name !== 'apiKey' && name !== 'managementToken') {
    return at.fail(`${pointer}/0`, `expected the apiKey or managementToken scheme, found ${name}`);
  }
  at.object(`/components/securitySchemes/${name}`);
  return name;
}

function readPlans(at: Pointer, pointer: string, plans: Set<string>): string[] {
  const listed = at.array(pointer).map((_, i) => at.string(`${pointer}/${i}`));
  if (listed.length === 0) at.fail(pointer, 'a secured operation must be in at least one plan');
  for (const [i, plan] of listed.entries()) {
    if (!plans.has(plan))
      at.fail(
        `${pointer}/${i}`,
        `unknown plan ${plan}; x-cci-plans lists ${[...plans].join(', ')}`,
      );
  }
  return listed;
}

/** The operation's parameters that are `in` the given place, references resolved. */
function declaredParameters(at: Pointer, base: string, where: 'path' | 'query') {
  const declared = at.has(`${base}/parameters`) ? at.array(`${base}/parameters`) : [];
  return declared
    .map((_, i) => at.resolve(`${base}/parameters/${i}`))
    .filter((param) => param.value.in === where);
}

function readPathParameters(
  at: Pointer,
  base: string,
  template: string,
): Operation['pathParameters'] {
  const parameters: Operation['pathParameters'] = {};
  for (const param of declaredParameters(at, base, 'path')) {
    const example = param.value.example;
    if (typeof example !== 'string')
      at.fail(`${param.pointer}/example`, 'a path parameter needs a string example');
    const pattern = at.get(`${param.pointer}/schema/pattern`);
    parameters[String(param.value.name)] = {
      example: example as string,
      ...(typeof pattern === 'string' ? { pattern } : {}),
    };
  }
  for (const [, name] of template.matchAll(/\{([^}]+)\}/g)) {
    if (!(name! in parameters)) at.fail(base, `path parameter {${name}} is not declared`);
  }
  return parameters;
}

function readQueryParameters(at: Pointer, base: string): Operation['queryParameters'] {
  const parameters: Operation['queryParameters'] = {};
  for (const param of declaredParameters(at, base, 'query')) {
    const example = param.value.example;
    const maximum = at.get(`${param.pointer}/schema/maximum`);
    parameters[String(param.value.name)] = {
      ...(example !== undefined ? { example: String(example) } : {}),
      ...(typeof maximum === 'number' ? { maximum } : {}),
    };
  }
  return parameters;
}

function readSuccessStatus(at: Pointer, pointer: string): number {
  const status = Object.keys(at.object(pointer)).find((code) => /^2\d\d$/.test(code));
  return status ? Number(status) : at.fail(pointer, 'an operation must declare a 2xx response');
}

function escapePointer(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** Reads typed values out of the parsed document, failing with the JSON pointer of a problem. */
class Pointer {
  constructor(
    private readonly file: string,
    private readonly doc: unknown,
  ) {}

  fail(pointer: string, problem: string): never {
    throw new ContractError('contract_invalid', `${this.file}#${pointer}`, problem);
  }

  has(pointer: string): boolean {
    return this.get(pointer) !== undefined;
  }

  get(pointer: string): unknown {
    let node: unknown = this.doc;
    for (const raw of pointer.split('/').slice(1)) {
      const token = raw.replaceAll('~1', '/').replaceAll('~0', '~');
      if (node === null || typeof node !== 'object') return undefined;
      node = (node as Json)[token];
    }
    return node;
  }

  /** Follows one local `$ref` at `pointer`, returning the target and where it lives. */
  resolve(pointer: string): { pointer: string; value: Json } {
    const value = this.object(pointer);
    if (typeof value.$ref !== 'string') return { pointer, value };
    if (!value.$ref.startsWith('#/'))
      this.fail(`${pointer}/$ref`, 'only local references are supported');
    const target = value.$ref.slice(1);
    return { pointer: target, value: this.object(target) };
  }

  object(pointer: string): Json {
    const value = this.get(pointer);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return this.fail(pointer, `expected an object, found ${describe(value)}`);
    }
    return value as Json;
  }

  array(pointer: string): unknown[] {
    const value = this.get(pointer);
    return Array.isArray(value)
      ? value
      : this.fail(pointer, `expected an array, found ${describe(value)}`);
  }

  string(pointer: string): string {
    const value = this.get(pointer);
    return typeof value === 'string' && value.length > 0
      ? value
      : this.fail(pointer, `expected a non-empty string, found ${describe(value)}`);
  }

  integer(pointer: string): number {
    const value = this.get(pointer);
    return Number.isInteger(value)
      ? (value as number)
      : this.fail(pointer, `expected an integer, found ${describe(value)}`);
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? `"${value.slice(0, 40)}"` : typeof value;
}
