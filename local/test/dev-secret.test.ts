/**
 * Defect 9: a `--secret` (or `jwtSecret`) shorter than the authorizer accepts (MIN_SECRET_BYTES,
 * shared/auth/config.ts) used to start a platform that reported ready and then failed every connection
 * with 500. It is refused before anything starts, by the command and by programmatic starts alike.
 */
import { resolve } from 'node:path';
import { MIN_SECRET_BYTES } from '../../shared/auth/config.js';
import { devCommand } from '../dev/command.js';
import { assertJwtSecret, startLocalPlatform } from '../dev/platform.js';

function io() {
  const lines: string[] = [];
  return { lines, out: (line: string) => lines.push(line), err: (line: string) => lines.push(line) };
}

describe('a JWT secret shorter than the authorizer accepts', () => {
  it.each([
    ['x'.repeat(MIN_SECRET_BYTES - 1), MIN_SECRET_BYTES - 1],
    ['short', 5],
    ['', 0],
  ])('is refused by `fanout dev --secret %j` before anything starts', async (secret, bytes) => {
    const output = io();
    const refusal = devCommand({ secret }, output);
    await expect(refusal).rejects.toThrow(
      `--secret must be at least ${MIN_SECRET_BYTES} bytes (HS256 needs a key as long as its hash), got ${bytes}`,
    );
    await expect(refusal).rejects.toMatchObject({ code: 'invalid_value', usage: true });
    expect(output.lines).toEqual([]);
  });

  it('is refused by startLocalPlatform, which starts nothing', async () => {
    const progress: string[] = [];
    const started = Date.now();
    await expect(
      startLocalPlatform({
        rootDir: resolve(__dirname, '../..'),
        jwtSecret: 'too-short',
        dashboardPort: false,
        progress: (line) => progress.push(line),
      }),
    ).rejects.toThrow(`the JWT secret must be at least ${MIN_SECRET_BYTES} bytes`);
    expect(progress).toEqual([]);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('is counted in UTF-8 bytes, as the authorizer counts it', () => {
    expect(() => assertJwtSecret('é'.repeat(MIN_SECRET_BYTES / 2))).not.toThrow(); // 2 bytes each
    expect(() => assertJwtSecret(`${'é'.repeat(MIN_SECRET_BYTES / 2 - 1)}a`)).toThrow(/got 31/);
    expect(() => assertJwtSecret('k'.repeat(MIN_SECRET_BYTES))).not.toThrow();
  });
});
