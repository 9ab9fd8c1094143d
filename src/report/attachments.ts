/** The attachment that carries a scenario's check results from the worker to the reporter. */
export const CHECKS_ATTACHMENT = 'cci-checks';

/** The attachment that shows what a scenario sent and got, redacted. */
export const EVIDENCE_ATTACHMENT = 'evidence';
