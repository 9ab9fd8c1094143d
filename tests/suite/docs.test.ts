import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { runCli } from '../helpers/cli.js';

// The commands users copy from the docs and the example workflow must use options the
// CLI has.

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

function flagsIn(text: string): string[] {
  const commands =
    text.match(/(cci-conformance|npm run conformance --)[^\n`]*(\n\s+--[^\n`]*)*/g) ?? [];
  return [...new Set(commands.flatMap((c) => c.match(/--[a-z][a-z-]*/g) ?? []))];
}

test('documented options exist', async () => {
  const help = (await runCli(['--help'])).stdout;
  const workflow = parse(read('examples/github-actions/deploy-gate.yml')) as {
    jobs: Record<string, unknown>;
  };
  assert.ok(Object.keys(workflow.jobs).includes('production-smoke'));
  const texts = [
    'README.md',
    'docs/implementers.md',
    'examples/github-actions/deploy-gate.yml',
  ].map(read);
  const flags = texts.flatMap(flagsIn);
  assert.ok(flags.length > 10, flags.join(' '));
  const unknown = flags.filter((flag) => !help.includes(flag));
  assert.deepEqual(unknown, []);
});
