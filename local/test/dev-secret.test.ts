/**
 * The JWT secret `fanout dev` starts with, and how it refuses to start. Defect 9: a `--secret` (or `jwtSecret`) shorter than the authorizer accepts (MIN_SECRET_BYTES,
 * shared/auth/config.ts) used to start a platform that reported ready and then failed every connection
 * with 500. It is refused before anything starts, by the command and by programmatic starts alike.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MIN_SECRET_BYTES } from '../../shared/auth/config.js';
import { devCommand, portInUse } from '../dev/command.js';
import { assertJwtSecret, jwtSecretFor, startLocalPlatform } from '../dev/platform.js';
import { persistedSecret, SECRET_FILE } from '../dev/secret.js';

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

describe('the secret kept in a data directory', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fanout-secret-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is made once, owner-only, and read back by the next start', () => {
    const progress: string[] = [];
    const made = jwtSecretFor({ dataDir: join(dir, 'data') }, (line) => progress.push(line));
    const file = join(dir, 'data', SECRET_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.byteLength(made)).toBeGreaterThanOrEqual(MIN_SECRET_BYTES);
    expect(jwtSecretFor({ dataDir: join(dir, 'data') }, (line) => progress.push(line))).toBe(made);
    expect(progress).toEqual([
      expect.stringMatching(/jwt-secret \(new\)$/),
      expect.stringMatching(/jwt-secret \(kept from an earlier start\)$/),
    ]);
  });

  it('gives way to an explicit secret, which it does not overwrite', () => {
    const kept = persistedSecret(dir).secret;
    const explicit = 'k'.repeat(MIN_SECRET_BYTES);
    expect(jwtSecretFor({ dataDir: dir, jwtSecret: explicit }, () => {})).toBe(explicit);
    expect(readFileSync(join(dir, SECRET_FILE), 'utf8').trim()).toBe(kept);
  });

  it('is made owner-only again when it was readable by others, and refused when too short', () => {
    const file = join(dir, SECRET_FILE);
    writeFileSync(file, `${'s'.repeat(MIN_SECRET_BYTES)}\n`, { mode: 0o644 });
    const progress: string[] = [];
    expect(jwtSecretFor({ dataDir: dir }, (line) => progress.push(line))).toBe('s'.repeat(MIN_SECRET_BYTES));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(progress[0]).toBe(`${file} was readable by others: made it owner-only (0600)`);
    writeFileSync(file, 'short\n');
    expect(() => jwtSecretFor({ dataDir: dir }, () => {})).toThrow(
      `${file} must be at least ${MIN_SECRET_BYTES} bytes`,
    );
  });
});

describe('a port in use', () => {
  const inUse = (port: number) =>
    Object.assign(new Error(`listen EADDRINUSE: address already in use 127.0.0.1:${port}`), {
      code: 'EADDRINUSE',
      port,
    });

  it('is named with the option and the make variable that change it', () => {
    const ports = { gateway: 4510, dashboard: 4500 };
    expect(portInUse(inUse(4500), ports)).toMatchObject({
      code: 'port_in_use',
      message: expect.stringContaining(
        'port 4500 (the dashboard) is in use, by another fanout dev or another program: pass --dashboard-port N (`make dev DASHBOARD_PORT=N`)',
      ),
    });
    expect(portInUse(inUse(4510), ports)?.message).toContain('pass --port N (`make dev PORT=N`)');
    // Another port (no option sets it) keeps the system's message; other errors are not this one's.
    expect(portInUse(inUse(9999), ports)).toMatchObject({
      code: 'port_in_use',
      message: expect.stringContaining('EADDRINUSE'),
    });
    expect(portInUse(new Error('boom'), ports)).toBeUndefined();
  });
});
