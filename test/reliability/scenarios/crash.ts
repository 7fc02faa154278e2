/**
 * The fan-out Lambda crashing mid-batch (issue 8): the real fan-out bundle runs in environments that
 * exit when the test broadcasts a crash (support/fanout-crashing.mjs), which it does from the gateway's
 * fault hook in the middle of a post, twice. What the crashed invocations had posted is posted again
 * when SQS gives their batches back (duplicates, counted); nothing is lost.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BroadcastChannel } from 'node:worker_threads';
import type { PlatformHarness } from '../../support/platform';
import { expectClean, pause, SCENARIO_TIMEOUT_MS, ScenarioRun } from '../support/scenario';
import type { Platform } from '../support/suite';

const CLIENTS = 10;
const ROUNDS = 12;
/** The posts (counted from the first) during which every fan-out environment crashes. */
const CRASH_AT_POSTS = [40, 220];
/** The channel support/fanout-crashing.mjs listens on. */
const CRASH_CHANNEL = 'fanout-reliability-crash';

export function crash(platform: Platform): void {
  it(
    'delivers every event although the fan-out function crashes twice in the middle of its posts',
    async () => {
      const h = platform();
      const crash = new BroadcastChannel(CRASH_CHANNEL);
      try {
        await crashMidBatch(h, crash);
      } finally {
        crash.close();
      }
    },
    SCENARIO_TIMEOUT_MS,
  );
}

async function crashMidBatch(h: PlatformHarness, crash: BroadcastChannel): Promise<void> {
  let posts = 0;
  let crashes = 0;
  h.platform.gateway.setFaults({
    beforeConnectionsCall: async ({ method }) => {
      if (method !== 'POST') return undefined;
      posts += 1;
      if (CRASH_AT_POSTS.includes(posts)) {
        crashes += 1;
        crash.postMessage('crash');
        // This post is still unanswered when its environment dies.
        await sleep(200);
      }
      return undefined;
    },
  });
  const run = await ScenarioRun.begin(h, {
    id: 'fanout-crash',
    test: expect.getState().currentTestName ?? 'fan-out crash',
    file: 'test/reliability/scenarios/crash.ts',
    promises: ['delivery', 'noLivePruned', 'noRowOutlives', 'noSilentDrop'],
    load: `${CLIENTS} clients on cr/*, ${ROUNDS} rounds of 4 topic events and 1 direct-to-user event in one PutEvents call`,
    faults: [
      `every fan-out environment exits (Runtime.ExitError) during posts ${CRASH_AT_POSTS.join(' and ')}`,
    ],
    badInputs: [],
  });
  await run.connectAll(
    Array.from({ length: CLIENTS }, (_, i) => ({
      name: `cr${i}`,
      sub: `cr-user${i}`,
      grants: ['cr/*'],
      subscribe: ['cr/*'],
    })),
  );
  for (let round = 0; round < ROUNDS; round += 1) {
    await run.publish(
      ...['a', 'b', 'c', 'd'].map((leaf) => ({ detail: { topics: [`cr/${leaf}`], data: { round } } })),
      { detail: { users: [`cr-user${round % CLIENTS}`], data: { round } } },
    );
    await pause(60);
  }
  await run.waitForDelivery();
  const exits = h.pollerLogs.filter((line) => line.includes('Runtime.ExitError')).length;
  const report = await run.finish({
    noSilentDrop: `${crashes} crashes, ${exits} invocations ended with Runtime.ExitError; their batches were received again`,
  });
  expectClean(report, h);
  expect(crashes).toBe(CRASH_AT_POSTS.length);
  expect(exits).toBeGreaterThanOrEqual(1);
}
