import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Contract } from '../contract/model.js';
import { buildReport, outcomesOf, type ConformanceReport } from './build.js';
import { CONFORMANCE_JSON } from './files.js';

/** Reports of shards that cannot be merged: different contracts, suites or seeds. */
export class MergeError extends Error {}

/** Reads `conformance.json` from each shard's report folder. */
export function readShardReports(dirs: string[]): ConformanceReport[] {
  if (dirs.length === 0) throw new MergeError('merge needs the report folders of the shards');
  return dirs.map((dir) => {
    const file = join(dir, CONFORMANCE_JSON);
    if (!existsSync(file)) throw new MergeError(`${file} does not exist`);
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as ConformanceReport;
    } catch (error) {
      throw new MergeError(`${file}: ${(error as Error).message}`);
    }
  });
}

/**
 * One report from the reports of several shards of one run: the scenarios of all shards,
 * judged again as if they had run together.
 */
export function mergeReports(
  contract: Contract,
  shards: ConformanceReport[],
  strict = false,
): ConformanceReport {
  const [first] = shards;
  if (!first) throw new MergeError('nothing to merge');
  for (const shard of shards) {
    if (shard.contract.sha256 !== contract.sha256) {
      throw new MergeError(
        `a shard ran contract sha256 ${shard.contract.sha256.slice(0, 12)}, ` +
          `not ${contract.sha256.slice(0, 12)}`,
      );
    }
    if (shard.suite.version !== first.suite.version || shard.seed !== first.seed) {
      throw new MergeError('the shards ran different suite versions or seeds');
    }
  }

  const outcomes = new Map(shards.flatMap(outcomesOf).map((o) => [o.id, o]));
  const targets = [...new Set(shards.map((s) => s.target.baseUrl))];
  const statuses = shards.map((s) => s.runStatus);
  return buildReport(
    contract,
    {
      baseUrl: targets.length === 1 ? targets[0]! : targets.join(', '),
      embedded: shards.every((s) => s.target.embedded),
      seed: first.seed,
      startedAt: shards.map((s) => s.startedAt).sort()[0]!,
      finishedAt: shards
        .map((s) => s.finishedAt)
        .sort()
        .at(-1)!,
      runStatus: statuses.find((s) => s !== 'passed') ?? 'passed',
      profiles: first.selectedProfiles,
      shard: `merged ${shards.map((s) => s.shard ?? '?').join(', ')}`,
    },
    [...outcomes.values()],
    strict,
  );
}
