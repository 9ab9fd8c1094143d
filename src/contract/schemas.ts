import { Ajv2020, type ErrorObject, type Options, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { Contract } from './model.js';

type AddFormats = typeof addFormatsModule.default;
// ajv-formats is CommonJS: under ESM its function is the module's `default` export.
const addFormats: AddFormats =
  (addFormatsModule as unknown as { default: AddFormats }).default ?? addFormatsModule;

/** A JSON Schema 2020-12 validator that knows the standard formats (date-time, uri, …). */
export function jsonSchemaValidator(options: Options = {}): Ajv2020 {
  const ajv = new Ajv2020(options);
  addFormats(ajv);
  return ajv;
}

/** One reason a body does not match a schema: where, and what is wrong. */
export interface SchemaProblem {
  pointer: string;
  problem: string;
}

/** Validates JSON bodies against the contract's component schemas. */
export class SchemaValidator {
  private readonly ajv: Ajv2020;
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly id: string;

  constructor(contract: Contract) {
    // OpenAPI 3.1 schemas are JSON Schema 2020-12 with extra annotation keywords
    // (example, x-*), which strict mode would reject.
    this.ajv = jsonSchemaValidator({ strict: false, allErrors: true });
    this.id = `urn:cci-contract:${contract.sha256}`;
    this.ajv.addSchema({ $id: this.id, components: contract.document.components }, this.id);
  }

  /** The problems of `value` against `#/components/schemas/<name>`; empty when it matches. */
  check(name: string, value: unknown): SchemaProblem[] {
    let validate = this.compiled.get(name);
    if (!validate) {
      validate = this.ajv.getSchema(`${this.id}#/components/schemas/${name}`);
      if (!validate) throw new Error(`the contract has no schema named ${name}`);
      this.compiled.set(name, validate);
    }
    if (validate(value)) return [];
    // One problem per place and wording: ajv can repeat itself (once per branch tried).
    const problems = new Map<string, SchemaProblem>();
    for (const problem of (validate.errors ?? []).map(toProblem))
      problems.set(`${problem.pointer} ${problem.problem}`, problem);
    return [...problems.values()];
  }
}

function toProblem(error: ErrorObject): SchemaProblem {
  const pointer = error.instancePath || '/';
  // Named by the field itself, not as a property its parent must not have.
  if (error.keyword === 'additionalProperties' && 'additionalProperty' in error.params) {
    const field = String(error.params.additionalProperty).replace(/~/g, '~0').replace(/\//g, '~1');
    return {
      pointer: `${pointer === '/' ? '' : pointer}/${field}`,
      problem: 'is not a field of this request',
    };
  }
  const allowed =
    error.params && 'allowedValues' in error.params
      ? ` (${(error.params.allowedValues as unknown[]).join(', ')})`
      : '';
  return { pointer, problem: `${error.message ?? 'is invalid'}${allowed}` };
}
