import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/**
 * The import-direction rules of .dependency-cruiser.cjs (`make deps`): each rule is shown to fail on
 * a fixture tree laid out like the repository with one planted violation per rule, and the real tree
 * is shown to pass.
 */

const ROOT = resolve(__dirname, '../..');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const CRUISER = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
/** What `make deps` cruises (checked against the Makefile below). */
const CRUISED = ['functions', 'backend', 'shared', 'sdk', 'local', 'bench'];

interface Violation {
  rule: string;
  from: string;
  to: string;
}

/** Runs the cruiser with the repository's config in `cwd`: its exit code and what it printed. */
function run(cwd: string, args: readonly string[]): Promise<{ exitCode: number; stdout: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [CRUISER, '--config', CONFIG, ...args],
      { cwd, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const exitCode = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        done({ exitCode, stdout: `${stdout}${stderr}` });
      },
    );
  });
}

/** The violations in the cruiser's JSON report (that reporter always exits 0). */
async function violations(cwd: string, paths: readonly string[]): Promise<Violation[]> {
  const { stdout } = await run(cwd, ['--output-type', 'json', ...paths]);
  const report = JSON.parse(stdout) as {
    summary: { violations: { from: string; to: string; rule: { name: string } }[] };
  };
  return report.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to }));
}

/** Files that break no rule: the layers as the repository has them. */
const CLEAN: Record<string, string> = {
  'sdk/protocol/src/index.ts': `export * from './limits.js';`,
  'sdk/protocol/src/limits.ts': `export const LIMIT = 1;`,
  'sdk/client/src/index.ts': `import { LIMIT } from '@fanout/protocol';\nexport const client = LIMIT;`,
  'sdk/publisher/src/index.ts': `import { LIMIT } from '@fanout/protocol';\nexport const publisher = LIMIT;`,
  'sdk/cli/src/index.ts': [
    `import { publisher } from '@fanout/publisher';`,
    `export const cli = publisher;`,
    // The CLI's lazy load of the optional local runtime, by package name, is allowed.
    `export const dev = () => import('@fanout/local');`,
    `export const backend = () => import('@fanout/backend');`,
  ].join('\n'),
  'shared/domain/envelope.ts': `import { LIMIT } from '@fanout/protocol';\nexport const envelope = LIMIT;`,
  'shared/concurrency.ts': `export const limit = 2;`,
  'shared/store/store.ts': `import type { envelope } from '../domain/envelope.js';\nexport type Store = typeof envelope;`,
  'shared/store/dynamodb-rows.ts': `import type { Store } from './store.js';\nexport type Row = Store;`,
  'shared/store/store-dynamodb.ts': [
    `import { LIMIT } from '@fanout/protocol';`,
    `import { limit } from '../concurrency.js';`,
    `import { envelope } from '../domain/envelope.js';`,
    `import type { Row } from './dynamodb-rows.js';`,
    `import type { Store } from './store.js';`,
    `export const rows: Row[] = [];`,
    `export const store: Store = envelope + limit + LIMIT;`,
  ].join('\n'),
  'shared/store/store-memory.ts': `import type { Store } from './store.js';\nexport const memory: Store = 0;`,
  'shared/queue/queue.ts': `export type Queue = number;`,
  'shared/queue/queue-sqs.ts': `import type { Queue } from './queue.js';\nexport const sqs: Queue = 0;`,
  'shared/fanout/engine.ts': `import { limit } from '../concurrency.js';\nimport type { Store } from '../store/store.js';\nexport const engine: Store = limit;`,
  'functions/fanout/handler.ts': [
    `import { LIMIT } from '@fanout/protocol';`,
    `import { engine } from '../../shared/fanout/engine.js';`,
    `import { store } from '../../shared/store/store-dynamodb.js';`,
    `export const handler = engine + store + LIMIT;`,
  ].join('\n'),
  'local/index.ts': `import { client } from '@fanout/client';\nimport { store } from '../shared/store/store-dynamodb.js';\nexport const local = client + store;`,
  'backend/index.ts': `import { engine } from '../shared/fanout/engine.js';\nexport const backend = engine;`,
  'test/support/helper.ts': `export const helper = 1;`,
  // The benchmarks may import anything: the platform, the local runtime, the functions' code.
  'bench/main.ts': [
    `import { local } from '../local/index.js';`,
    `import { engine } from '../shared/fanout/engine.js';`,
    `import { helper } from '../test/support/helper.js';`,
    `export const bench = local + engine + helper;`,
  ].join('\n'),
};

/** One violation per rule: the file that breaks it, and what it imports. */
const PLANTED: { rule: string; file: string; source: string }[] = [
  {
    rule: 'protocol-stands-alone',
    file: 'sdk/protocol/src/planted.ts',
    source: `export { client } from '@fanout/client';`,
  },
  {
    rule: 'domain-imports-only-protocol',
    file: 'shared/domain/planted.ts',
    source: `export type { Store } from '../store/store.js';`,
  },
  {
    rule: 'adapters-not-each-other',
    file: 'shared/store/planted-memory.ts',
    source: `export type { Row } from './dynamodb-rows.js';`,
  },
  {
    rule: 'adapters-import-port-and-domain',
    file: 'shared/queue/planted-sqs.ts',
    source: `export { engine } from '../fanout/engine.js';`,
  },
  {
    rule: 'functions-only-wire',
    file: 'functions/connect/handler.ts',
    source: `export { local } from '../../local/index.js';`,
  },
  {
    rule: 'backend-only-wires',
    file: 'backend/planted.ts',
    source: `export { handler } from '../functions/fanout/handler.js';`,
  },
  {
    rule: 'functions-not-each-other',
    file: 'functions/subscribe/handler.ts',
    source: `export { handler } from '../fanout/handler.js';`,
  },
  {
    rule: 'shared-not-outwards',
    file: 'shared/fanout/planted.ts',
    source: `export { client } from '@fanout/client';`,
  },
  {
    // Nothing of the platform may lean on the benchmarks.
    rule: 'shared-not-outwards',
    file: 'shared/fanout/planted-bench.ts',
    source: `export { bench } from '../../bench/main.js';`,
  },
  {
    rule: 'sdk-not-server',
    file: 'sdk/publisher/src/planted.ts',
    source: `export { limit } from '../../../shared/concurrency.js';`,
  },
  {
    rule: 'sdk-not-local',
    file: 'sdk/client/src/planted.ts',
    source: `export type { local } from '@fanout/local';`,
  },
  {
    rule: 'sdk-loads-local-by-its-entry',
    file: 'sdk/cli/src/planted.ts',
    source: `export const dev = () => import('../../../local/planted.js');`,
  },
  {
    rule: 'local-not-test',
    file: 'local/planted.ts',
    source: `export { helper } from '../test/support/helper.js';`,
  },
  {
    rule: 'no-cycles',
    file: 'shared/fanout/cycle-a.ts',
    source: `import { b } from './cycle-b.js';\nexport const a = () => b;`,
  },
  {
    rule: 'resolvable',
    file: 'shared/fanout/unresolvable.ts',
    source: `export { gone } from './no-such-file.js';`,
  },
];

const CYCLE_PARTNER = {
  'shared/fanout/cycle-b.ts': `import { a } from './cycle-a.js';\nexport const b = () => a;`,
};

async function layOut(root: string, files: Record<string, string>): Promise<void> {
  for (const [file, source] of Object.entries(files)) {
    await mkdir(dirname(join(root, file)), { recursive: true });
    await writeFile(join(root, file), `${source}\n`);
  }
}

/** The fixture's tsconfig maps the packages exactly as the repository's does. */
async function fixtureTsconfig(root: string): Promise<void> {
  const real = JSON.parse(await readFile(join(ROOT, 'tsconfig.json'), 'utf8')) as {
    compilerOptions: Record<string, unknown>;
  };
  const { module, moduleResolution, paths } = real.compilerOptions;
  await writeFile(
    join(root, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module, moduleResolution, paths } }),
  );
}

/** The names of the config's rules (it is CommonJS, so require reads it as the cruiser does). */
function ruleNames(): string[] {
  const config: { forbidden: { name: string }[] } = require(CONFIG);
  return config.forbidden.map((rule) => rule.name);
}

describe('import direction (make deps)', () => {
  it('reports each planted violation under its rule, passes the clean files beside them, and fails', async () => {
    const planted = await mkdtemp(join(tmpdir(), 'fanout-deps-planted-'));
    try {
      await fixtureTsconfig(planted);
      await layOut(planted, {
        ...CLEAN,
        ...Object.fromEntries(PLANTED.map(({ file, source }) => [file, source])),
        ...CYCLE_PARTNER,
      });
      // The JSON report says which rule each file broke; the default reporter is what make runs.
      const [found, asMakeRunsIt] = await Promise.all([violations(planted, CRUISED), run(planted, CRUISED)]);

      for (const { rule, file } of PLANTED) {
        expect(found.filter((v) => v.from === file).map((v) => v.rule)).toContain(rule);
      }
      // Only planted files break anything: the clean layers beside them pass (a cycle is reported
      // from one of its two files).
      const planters = [...PLANTED.map((p) => p.file), ...Object.keys(CYCLE_PARTNER)];
      for (const v of found) expect(planters).toContain(v.from);
      // Every rule of the config is among those shown to fail.
      expect(new Set(found.map((v) => v.rule))).toEqual(new Set(ruleNames()));
      // And the check fails: the exit code counts the errors.
      expect(asMakeRunsIt.exitCode).toBe(found.length);
      expect(asMakeRunsIt.stdout).toContain('error no-cycles');
    } finally {
      await rm(planted, { recursive: true, force: true });
    }
  });

  it('passes on the repository as make deps cruises it', async () => {
    const makefile = await readFile(join(ROOT, 'Makefile'), 'utf8');
    expect(makefile).toContain(`--config .dependency-cruiser.cjs ${CRUISED.join(' ')}\n`);
    const result = await run(ROOT, CRUISED);
    expect(result).toEqual({
      exitCode: 0,
      stdout: expect.stringContaining('no dependency violations found'),
    });
  });
});
