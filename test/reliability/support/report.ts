/**
 * What a reliability scenario reports: which promises it tests, under what load, faults and bad
 * inputs, and its figures. With RELIABILITY_REPORT_DIR set (`make reliability` sets it), each
 * scenario writes its report there as JSON, and scripts/reliability/render.ts turns the reports into
 * docs/reliability.md. Without it nothing is written: `make test` only asserts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DeliveryFigures } from './ledger';

/** The promises of docs/architecture.md, in the order docs/reliability.md lists them. */
export const PROMISES = {
  delivery: 'Every event reaches every live subscriber at least once',
  noLivePruned: 'No live connection is pruned',
  noRowOutlives: 'No row outlives its connection',
  noSilentDrop: 'No event is dropped silently',
  tokens: 'Nobody connects or subscribes without a token that allows it',
} as const;
export type PromiseId = keyof typeof PROMISES;

export interface Scenario {
  /** Stable id: the report's file name and the doc's anchor. */
  id: string;
  /** The test's name, as jest prints it. */
  test: string;
  /** The test file, from the repository root. */
  file: string;
  promises: readonly PromiseId[];
  /** Clients, events and how they arrive. */
  load: string;
  faults: readonly string[];
  badInputs: readonly string[];
}

export interface Figures extends DeliveryFigures {
  /** Live clients whose connection rows were deleted while they were connected. */
  wronglyPruned: number;
  /** Connection rows left once every client is gone and the dust has settled (history rows excluded). */
  rowsLeaked: number;
}

export interface ScenarioReport extends Scenario {
  figures: Figures;
  /** What else was checked for a promise, in a sentence with its numbers ("5 of 5 dead-lettered with a reason"). */
  checks: Partial<Record<PromiseId, string>>;
  durationMs: number;
  finishedAt: string;
}

export const REPORT_DIR_VARIABLE = 'RELIABILITY_REPORT_DIR';

/** Writes the report when RELIABILITY_REPORT_DIR is set; returns the file written, if any. */
export function writeReport(report: ScenarioReport): string | undefined {
  const dir = process.env[REPORT_DIR_VARIABLE];
  if (!dir) return undefined;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${report.id}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}
