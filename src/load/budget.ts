/** A check's bounds: it stops at whichever comes first, the request cap or the deadline. */
export class Budget {
  private sent = 0;
  private stopped = false;
  private readonly started = performance.now();

  constructor(
    readonly maxRequests: number,
    readonly durationMs: number,
  ) {}

  /** Claims one request; false once either bound is reached or {@link stop} was called. */
  take(): boolean {
    if (this.done()) return false;
    this.sent++;
    return true;
  }

  done(): boolean {
    return this.stopped || this.sent >= this.maxRequests || this.elapsed() >= this.durationMs;
  }

  stop(): void {
    this.stopped = true;
  }

  elapsed(): number {
    return performance.now() - this.started;
  }

  /** How far through, 0 to 1: the larger of the time and request fractions. */
  progress(): number {
    return Math.min(1, Math.max(this.elapsed() / this.durationMs, this.sent / this.maxRequests));
  }

  get requests(): number {
    return this.sent;
  }
}

/** Waits until `ready()` holds (true) or the budget runs out first (false). */
export async function until(budget: Budget, ready: () => boolean): Promise<boolean> {
  while (!ready()) {
    if (budget.done()) return false;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return true;
}
