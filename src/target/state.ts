import type { Source } from '../scenarios/model.js';

/**
 * Everything the workers need to run scenarios, prepared once by the global setup and
 * handed to them in the environment (never written to disk: it holds secrets).
 */
export interface RunState {
  runId: string;
  startedAt: string;
  baseUrl: string;
  /** The same target over IPv6 loopback, when it answers there. */
  ipv6Url?: string;
  contractFile?: string;
  seed: number;
  managementToken?: string;
  /** Why scenarios that create or revoke keys cannot run; absent when they can. */
  mutationsBlocked?: string;
  /** Provisioned keys by role. */
  keys: Record<string, string>;
  /** Roles that could not be provisioned, with the reason. */
  missingRoles: Record<string, string>;
  /** Local address per source; null means the system's choice. */
  sources: Partial<Record<Source, string | null>>;
  /** Sources that cannot be used against this target, with the reason. */
  missingSources: Partial<Record<Source, string>>;
  /** Values for `{{address:NAME}}` placeholders. */
  addresses: Record<string, string>;
}

const VARIABLE = 'CCI_RUN_STATE';

export function publishRunState(state: RunState): void {
  process.env[VARIABLE] = JSON.stringify(state);
}

/** The run state the global setup published, if it did. */
export function peekRunState(): RunState | undefined {
  const text = process.env[VARIABLE];
  return text ? (JSON.parse(text) as RunState) : undefined;
}

/** The run state the global setup published; throws with a clear message when there is none. */
export function readRunState(): RunState {
  const state = peekRunState();
  if (!state) {
    throw new Error(
      'no run state: run the suite with `npm run conformance` or `npx playwright test`',
    );
  }
  return state;
}

/** Every secret of the run, for leak checks and redaction. */
export function runSecrets(state: RunState): string[] {
  return [...Object.values(state.keys), ...(state.managementToken ? [state.managementToken] : [])];
}
