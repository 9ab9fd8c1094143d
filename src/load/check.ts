import type { StatsSummary } from './stats.js';

export const CHECKS = ['rotation', 'revocation', 'flood'] as const;
export type CheckName = (typeof CHECKS)[number];

/** Where the checks send traffic, and how to stop it when they are done. */
export interface LoadTarget {
  baseUrl: string;
  managementToken: string;
  /** What the plan line calls it, for example "embedded reference (2 workers)". */
  label: string;
  /** Reference workers expected behind the URL; 1 when unknown. */
  workers: number;
  close(): Promise<void>;
}

export interface CheckOptions {
  durationMs: number;
  connections: number;
  maxRequests: number;
  /** Progress lines, for stderr. */
  progress: (line: string) => void;
}

/** One claim a check makes. `timing` claims are left out where timings must not decide. */
export interface Criterion {
  name: string;
  ok: boolean;
  detail: string;
  timing?: boolean;
}

export interface CheckResult {
  check: CheckName;
  ok: boolean;
  wallMs: number;
  stats: StatsSummary;
  criteria: Criterion[];
  /** Facts worth printing that decide nothing. */
  notes: string[];
}

export function result(
  check: CheckName,
  wallMs: number,
  stats: StatsSummary,
  criteria: Criterion[],
  notes: string[] = [],
): CheckResult {
  return { check, ok: criteria.every((c) => c.ok), wallMs, stats, criteria, notes };
}

/** Milliseconds as the summaries print them. */
export const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 0)} ms`;
