import type { OpenAPIV3_1 } from 'openapi-types';

/** MUST requirements decide the verdict; SHOULD requirements are reported beside it. */
export type RequirementLevel = 'MUST' | 'SHOULD';

/** One numbered requirement of the catalogue in `x-cci-requirements`. */
export interface Requirement {
  id: string;
  level: RequirementLevel;
  profile: string;
  text: string;
  source: string;
}

/** A group of requirements that can be certified on its own (`x-cci-profiles`). */
export interface Profile {
  id: string;
  title: string;
  description: string;
}

/** Which credential an operation takes. */
export type SecurityKind = 'apiKey' | 'managementToken' | 'none';

/** An operation as the suite needs it: where it is, who may call it, how to call it. */
export interface Operation {
  operationId: string;
  method: string;
  pathTemplate: string;
  security: SecurityKind;
  /** Plans that include the operation, from `x-cci-plans`; empty when not secured by key. */
  plans: string[];
  /** Per path parameter: its `example`, and its schema `pattern` when it has one. */
  pathParameters: Record<string, { example: string; pattern?: string }>;
  /** Per query parameter: its `example` and its schema's `maximum`, when it has them. */
  queryParameters: Record<string, { example?: string; maximum?: number }>;
  /** The example request body, when the operation takes one. */
  bodyExample?: unknown;
  /** The first 2xx status the contract declares. */
  successStatus: number;
}

/** The shape of a valid key, from `x-cci-key-format`. */
export interface KeyFormat {
  livePrefix: string;
  testPrefix: string;
  bodyMinLength: number;
  bodyMaxLength: number;
  pattern: RegExp;
}

/** The contract, loaded and checked. */
export interface Contract {
  file: string;
  sha256: string;
  version: string;
  document: OpenAPIV3_1.Document;
  realm: string;
  keyFormat: KeyFormat;
  plans: string[];
  profiles: Profile[];
  requirements: Requirement[];
  /** Every `error.code`, with the status it is sent with. */
  errorCodes: Map<string, number>;
  operations: Operation[];
}
