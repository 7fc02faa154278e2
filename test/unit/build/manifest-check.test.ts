/**
 * The function bundles do not check functions.json on a cold start (shared/deployment/manifest.ts):
 * their build does, so a malformed manifest must fail the build.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkManifest } from '../../../scripts/build.mjs';

const MANIFEST = join(__dirname, '../../../terraform/modules/fanout/functions.json');

describe('the build’s manifest check', () => {
  it('passes the manifest in the repository', async () => {
    await expect(checkManifest()).resolves.toBeUndefined();
  });

  it('fails the build on a malformed manifest, naming the problem', async () => {
    const broken = JSON.parse(readFileSync(MANIFEST, 'utf8'));
    broken.functions.fanout.memory_size = 64;
    const path = join(mkdtempSync(join(tmpdir(), 'manifest-')), 'functions.json');
    writeFileSync(path, JSON.stringify(broken));
    await expect(checkManifest(path)).rejects.toThrow(
      /functions\.json is malformed[\s\S]*functions\.fanout\.memory_size/,
    );
  });
});
