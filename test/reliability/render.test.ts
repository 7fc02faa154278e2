/**
 * docs/reliability.md is generated (scripts/reliability/render.ts, by `make reliability`): it must be
 * exactly what its embedded figures render to (but for biome's table padding), so it was neither edited by hand nor left behind by
 * a change to the renderer. Checking that costs nothing; rerunning the suite to check the figures
 * themselves would cost a minute, which is what `make reliability` is for.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { embeddedFigures, type RenderedFigures, renderReliability } from '../../scripts/reliability/render';
import type { ScenarioReport } from './support/report';

const DOC = resolve(__dirname, '../../docs/reliability.md');

/** The document without its table padding, which `make reliability` lets biome add (as `make lint` wants). */
const unpadded = (markdown: string): string =>
  markdown
    .split('\n')
    .map((line) =>
      line.startsWith('|') ? line.replace(/ *\| */g, '|').replace(/\|-+(?=\|)/g, '|---') : line,
    )
    .join('\n');

const report = (overrides: Partial<ScenarioReport['figures']> = {}): ScenarioReport => ({
  id: 'sample',
  test: 'delivers | everything',
  file: 'test/reliability/scenarios/sample.ts',
  promises: ['delivery', 'noRowOutlives'],
  load: '2 clients',
  faults: ['429 on every post'],
  badInputs: [],
  figures: {
    published: 3,
    liveClients: 2,
    expected: 6,
    delivered: 6,
    duplicated: 1,
    lost: 0,
    misdelivered: 0,
    samples: [],
    wronglyPruned: 0,
    rowsLeaked: 0,
    ...overrides,
  },
  checks: { noRowOutlives: '2 of 2 rows pruned' },
  durationMs: 1234,
  finishedAt: '2026-12-02T01:00:00.000Z',
});

const run: RenderedFigures['run'] = {
  generatedAt: '2026-12-02 01:00 UTC',
  node: 'v20.0.0',
  cores: 2,
  loadAverage: 1.5,
  durationMs: 60_000,
};

it('is exactly what the figures embedded in it render to', () => {
  const markdown = readFileSync(DOC, 'utf8');
  const figures = embeddedFigures(markdown);
  expect(figures).toBeDefined();
  expect(figures?.reports.length).toBeGreaterThan(0);
  if (figures) expect(unpadded(renderReliability(figures))).toBe(unpadded(markdown));
});

it('lists a scenario under each promise it tests with its figures and checks, and no other', () => {
  const markdown = renderReliability({ run, reports: [report()] });
  const section = (title: string) => markdown.split('\n## ').find((part) => part.startsWith(title)) ?? '';
  expect(section('Every event reaches every live subscriber')).toContain(
    '| sample | 2 clients | 429 on every post | none | 3 | 6 of 6 | 1 | 0 | 0 | 2 live clients; misdelivered 0 |',
  );
  expect(section('No row outlives its connection')).toContain('| 2 of 2 rows pruned; rows leaked 0 |');
  expect(section('No live connection is pruned')).toContain('No scenario tests this promise.');
  // A pipe in a test name must not split the table's cells.
  expect(markdown).toContain('delivers \\| everything');
  expect(markdown).toContain('| held |');
});

it('shows a scenario that lost an event as broken', () => {
  const markdown = renderReliability({ run, reports: [report({ lost: 1, delivered: 5 })] });
  expect(markdown).toContain('| **broken** |');
  expect(markdown).toContain('| 5 of 6 | 1 | 1 |');
});

it('finds no figures in a document that has none', () => {
  expect(embeddedFigures('# Reliability\n\nwritten by hand\n')).toBeUndefined();
});
