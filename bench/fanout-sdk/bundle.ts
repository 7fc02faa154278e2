import { join } from 'node:path';
import { bundleFunction } from '../../scripts/build.mjs';
import { ROOT } from '../world.js';

const OUT_DIR = join(ROOT, 'bench', '.build', 'fanout-sdk');

/** The SDK variant's zip, as the deployed function's: its size is reported beside the lean one's. */
export const SDK_FANOUT_ZIP = `${OUT_DIR}.zip`;

let built: Promise<string> | undefined;

/**
 * bench/.build/fanout-sdk/index.mjs (and SDK_FANOUT_ZIP): the fan-out function with the plain SDK
 * adapter, bundled as scripts/build.mjs bundles the deployed one (same options, same composition),
 * once per run.
 */
export function sdkFanoutBundle(): Promise<string> {
  built ??= (async () => {
    await bundleFunction(join(ROOT, 'bench', 'fanout-sdk', 'handler.ts'), OUT_DIR, SDK_FANOUT_ZIP);
    return join(OUT_DIR, 'index.mjs');
  })();
  return built;
}
