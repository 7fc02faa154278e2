/**
 * `make reliability`: runs the reliability suite with RELIABILITY_REPORT_DIR set, so that every
 * scenario writes its figures, then renders docs/reliability.md from them (render.ts). A scenario
 * that breaks a promise still reports, and shows as broken in the document; the command then fails.
 *
 *   tsx scripts/reliability/run.ts [<report dir>] [<output.md>]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { REPORT_DIR_VARIABLE } from '../../test/reliability/support/report';
import { type RunInfo, readReports, renderReliability } from './render';

const root = resolve(__dirname, '../..');
const dir = resolve(process.argv[2] ?? join(root, 'dist/reliability'));
const out = resolve(process.argv[3] ?? join(root, 'docs/reliability.md'));

rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const started = Date.now();
const loadAverage = loadavg()[0] ?? 0;
const jest = spawnSync(join(root, 'node_modules/.bin/jest'), ['test/reliability'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, [REPORT_DIR_VARIABLE]: dir },
});
const run: RunInfo = {
  generatedAt: `${new Date(started).toISOString().slice(0, 16).replace('T', ' ')} UTC`,
  node: process.version,
  cores: availableParallelism(),
  loadAverage,
  durationMs: Date.now() - started,
};
writeFileSync(join(dir, 'run.json'), `${JSON.stringify(run, null, 2)}\n`);
const reports = readReports(dir);
if (reports.length === 0) {
  process.stderr.write(`no scenario reported into ${dir}; docs/reliability.md left as it was\n`);
  process.exit(jest.status ?? 1);
}
writeFileSync(out, renderReliability({ run, reports }));
// Laid out as `make lint` wants it (biome pads the tables); render.test.ts compares modulo that padding.
const format = spawnSync(join(root, 'node_modules/.bin/biome'), ['format', '--write', out], {
  cwd: root,
  stdio: 'inherit',
});
if (format.status !== 0) process.stderr.write(`biome could not format ${out}\n`);
process.stdout.write(`wrote ${out} from ${reports.length} scenario reports\n`);
process.exit(jest.status ?? 1);
