import type { Outcome } from './probe.js';

/** What a set of requests came to, as the summary prints it. */
export interface StatsSummary {
  requests: number;
  succeeded: number;
  /** Requests per second over the wall time given to {@link Stats.summary}. */
  rate: number;
  p50Ms: number;
  p99Ms: number;
  /** `status error.code` (or `status`) → count, for every answer that was not 2xx. */
  byStatus: Record<string, number>;
  /** Transport errors by undici code: no answer came. */
  errors: Record<string, number>;
}

/** The value below which `p` (0 to 1) of the sorted values fall; 0 for no values. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

export function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

/** Latencies and answers of one population of requests. */
export class Stats {
  private readonly latencies: number[] = [];
  private readonly byStatus: Record<string, number> = {};
  private readonly errors: Record<string, number> = {};
  private succeeded = 0;

  add(outcome: Outcome): void {
    if (outcome.status === 0) {
      const code = outcome.error ?? 'unknown';
      this.errors[code] = (this.errors[code] ?? 0) + 1;
      return;
    }
    this.latencies.push(outcome.ms);
    if (outcome.status < 300) this.succeeded++;
    else {
      const label = outcome.code ? `${outcome.status} ${outcome.code}` : String(outcome.status);
      this.byStatus[label] = (this.byStatus[label] ?? 0) + 1;
    }
  }

  get count(): number {
    return this.latencies.length + Object.values(this.errors).reduce((a, b) => a + b, 0);
  }

  summary(wallMs: number): StatsSummary {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return {
      requests: this.count,
      succeeded: this.succeeded,
      rate: wallMs > 0 ? (this.count * 1000) / wallMs : 0,
      p50Ms: percentile(sorted, 0.5),
      p99Ms: percentile(sorted, 0.99),
      byStatus: { ...this.byStatus },
      errors: { ...this.errors },
    };
  }
}
