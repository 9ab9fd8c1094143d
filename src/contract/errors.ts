/** Stable codes for a contract that cannot be used. */
export type ContractErrorCode = 'contract_unreadable' | 'contract_not_yaml' | 'contract_invalid';

/**
 * A contract document that cannot be loaded. `where` names the file and, when known, the
 * JSON pointer inside it, so the message says exactly what to fix.
 */
export class ContractError extends Error {
  readonly code: ContractErrorCode;
  readonly where: string;

  constructor(code: ContractErrorCode, where: string, problem: string) {
    super(`${where}: ${problem}`);
    this.name = 'ContractError';
    this.code = code;
    this.where = where;
  }
}
