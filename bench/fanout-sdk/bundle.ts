import { join } from 'node:path';
import { bundleFunction } from '../../scripts/build.mjs';
import { ROOT } from '../world.js';

let built: Promise<string> | undefined;

/**
 * bench/.build/fanout-sdk/index.mjs: the fan-out function with the plain SDK adapter, bundled as
 * scripts/build.mjs bundles the deployed one (same options, same composition), once per run.
 */
export function sdkFanoutBundle(): Promise<string> {
  built ??= (async () => {
    const outDir = join(ROOT, 'bench', '.build', 'fanout-sdk');
    await bundleFunction(join(ROOT, 'bench', 'fanout-sdk', 'handler.ts'), outDir, `${outDir}.zip`);
    return join(outDir, 'index.mjs');
  })();
  return built;
}
