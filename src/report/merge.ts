import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { jsonSchemaValidator } from '../contract/schemas.js';
import type { Contract } from '../contract/model.js';
import { buildReport, outcomesOf, type ConformanceReport } from './build.js';
import { CONFORMANCE_JSON } from './files.js';

/** Reports of shards that cannot be merged: different contracts, suites or seeds. */
export class MergeError extends Error {}

const SCHEMA_FILE = join(
  dirname(fileURLToPath(import.meta.url)),
  '../../schemas/conformance-report.schema.json',
);

let validator: ValidateFunction | undefined;

/** The shipped schema of conformance.json, compiled once. */
function reportValidator(): ValidateFunction {
  if (!validator) {
    validator = jsonSchemaValidator().compile(
      JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as object,
    );
  }
  return validator;
}

/**
 * Reads `conformance.json` from each shard's report folder, and checks it is one: a file
 * of another shape would otherwise fail the merge with a TypeError deep inside it.
 */
export function readShardReports(dirs: string[]): ConformanceReport[] {
  if (dirs.length === 0) throw new MergeError('merge needs the report folders of the shards');
  const reports = dirs.map((dir) => {
    const file = join(dir, CONFORMANCE_JSON);
    if (!existsSync(file)) throw new MergeError(`${file} does not exist`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new MergeError(`${file}: ${(error as Error).message}`);
    }
    const validate = reportValidator();
    if (!validate(parsed)) {
      const [first] = validate.errors ?? [];
      const where = first?.instancePath || '/';
      throw new MergeError(
        `${file} is not a conformance report: at ${where}, ${first?.message ?? 'invalid'}`,
      );
    }
    return { file, report: parsed as ConformanceReport };
  });
  checkShards(reports);
  return reports.map((r) => r.report);
}

/**
 * The shards of one run, each once and none missing: a shard given twice would count its
 * scenarios twice, and a merge of some shards (one died, say) would certify part of the
 * suite as if it were all of it.
 */
function checkShards(reports: Array<{ file: string; report: ConformanceReport }>): void {
  const seen = new Map<number, string>();
  const totals = new Set<number>();
  for (const { file, report } of reports) {
    const split = /^(\d+)\/(\d+)$/.exec(report.shard ?? '');
    if (!split) throw new MergeError(`${file} is not the report of a shard (run with --shard I/N)`);
    const current = Number(split[1]);
    const earlier = seen.get(current);
    if (earlier)
      throw new MergeError(`shard ${report.shard} is given twice: ${earlier} and ${file}`);
    seen.set(current, file);
    totals.add(Number(split[2]));
  }
  if (totals.size > 1) {
    const given = reports.map((r) => r.report.shard).join(', ');
    throw new MergeError(
      `the reports come from different splits (${given}): merge the shards of one run`,
    );
  }
  const [total] = [...totals];
  const missing = Array.from({ length: total! }, (_, i) => i + 1).filter((n) => !seen.has(n));
  if (missing.length > 0) {
    throw new MergeError(
      `shard ${missing.map((n) => `${n}/${total}`).join(', ')} is missing: ` +
        'a merge of some shards would certify part of the suite',
    );
  }
  const embedded = new Set(reports.map((r) => r.report.target.embedded));
  const targets = new Set(reports.map((r) => r.report.target.baseUrl));
  // Shards of the embedded reference each start their own, on a port of their own.
  if (embedded.size > 1 || (!embedded.has(true) && targets.size > 1)) {
    throw new MergeError(`the shards checked different targets: ${[...targets].join(', ')}`);
  }
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
