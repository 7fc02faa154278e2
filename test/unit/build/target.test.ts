/**
 * The bundles are compiled for the Node version of the Lambda runtime Terraform deploys, and both
 * come from functions.json's "runtime": a runtime upgrade is one edit, and the build follows it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { esbuildTarget, lambdaRuntime } from '../../../scripts/build/target.mjs';
import { FUNCTION_TARGET } from '../../../scripts/build.mjs';
import { manifest } from '../../../shared/deployment/manifest';

const ROOT = join(__dirname, '../../..');

describe('the bundles’ esbuild target', () => {
  it('is the Node version of the Lambda runtime that functions.json names and Terraform deploys', () => {
    expect(lambdaRuntime()).toBe(manifest.runtime);
    const runtime = /^nodejs(\d+)\.x$/.exec(manifest.runtime)?.[1];
    expect(FUNCTION_TARGET).toBe(`node${runtime}`);
    const functionsTf = readFileSync(join(ROOT, 'terraform/modules/fanout/functions.tf'), 'utf8');
    expect(functionsTf).toMatch(/^\s*runtime\s*=\s*local\.manifest\.runtime\s*$/m);
    expect(functionsTf).not.toMatch(/nodejs\d+\.x/);
  });

  it('follows a change of runtime, and refuses one that is not a Node.js runtime', () => {
    expect(esbuildTarget('nodejs24.x')).toBe('node24');
    expect(esbuildTarget('nodejs20.x')).toBe('node20');
    expect(() => esbuildTarget('python3.13')).toThrow(
      'must be a Lambda Node.js runtime (nodejsNN.x), got python3.13',
    );
    expect(() => esbuildTarget(undefined)).toThrow('got undefined');
  });
});
