import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/**
 * A real browser for end-to-end tests: Debian's chromium (`apt-get install chromium`), driven by
 * playwright-core. Playwright's own browser downloads are never used.
 */
export const CHROMIUM_PATH = '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export type BrowserAvailability =
  | { run: true }
  | { run: false; reason: string }
  /** Missing on CI, which installs chromium: the tests must fail, not skip. */
  | { run: true; missing: string };

/**
 * Whether browser tests can run here. Without chromium they are skipped on a developer machine and
 * fail on CI (where `CI` is set and chromium is installed by the workflow).
 */
export function browserAvailability(): BrowserAvailability {
  if (existsSync(CHROMIUM_PATH)) return { run: true };
  const missing = `chromium is not installed at ${CHROMIUM_PATH} (apt-get install -y chromium)`;
  if (process.env.CI) return { run: true, missing };
  return { run: false, reason: missing };
}

export async function launchChromium(): Promise<Browser> {
  const availability = browserAvailability();
  if ('missing' in availability) throw new Error(`CI is set but ${availability.missing}`);
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 15_000 });
}
