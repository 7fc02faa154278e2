/**
 * `@connections` misbehaving (issue 8), each scenario on the same platform with its own topic and
 * clients: a storm of 429 LimitExceededException, an outage where every post answers 500 for a few
 * seconds, and slow calls that outlast the fan-out's request timeout (the gateway still delivers
 * them late, so the retry that follows is a duplicate: allowed, and counted). Every event must reach
 * every subscriber, and nothing may be dead-lettered: the retries must outlast the fault.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { GatewayFaults } from '../../../local/gateway/types';
import type { PlatformHarness } from '../../support/platform';
import { expectClean, pause, SCENARIO_TIMEOUT_MS, ScenarioRun } from '../support/scenario';
import { type Platform, REQUEST_TIMEOUT_MS } from '../support/suite';

const CLIENTS = 10;
const ROUNDS = 12;
/** Longer than the fan-out's request timeout. */
const SLOW_CALL_MS = 1_500;
const OUTAGE_MS = 3_000;

/** Clients on `<prefix>/*`, and rounds of two topic events and one direct-to-user event. */
async function runScenario(
  run: ScenarioRun,
  prefix: string,
  during: { at: number; run: () => void } | undefined,
): Promise<void> {
  await run.connectAll(
    Array.from({ length: CLIENTS }, (_, i) => ({
      name: `${prefix}${i}`,
      sub: `${prefix}-user${i}`,
      grants: [`${prefix}/*`],
      subscribe: [`${prefix}/*`],
    })),
  );
  for (let round = 0; round < ROUNDS; round += 1) {
    if (round === during?.at) during.run();
    await run.publish(
      { detail: { topics: [`${prefix}/a`], data: { round } } },
      { detail: { topics: [`${prefix}/b`], data: { round } } },
      { detail: { users: [`${prefix}-user${round % CLIENTS}`], data: { round } } },
    );
    await pause(60);
  }
  await run.waitForDelivery();
}

const dlqDepth = (h: PlatformHarness) => h.queueDepth(h.config.dlqUrl);

export function connectionsFaults(platform: Platform): void {
  it(
    'delivers every event through a storm of 429 LimitExceededException on 60% of posts, dead-lettering nothing',
    async () => {
      const h = platform();
      const lettersBefore = await dlqDepth(h);
      let throttled = 0;
      let posts = 0;
      const storm: GatewayFaults = {
        beforeConnectionsCall: ({ method }) => {
          if (method !== 'POST') return undefined;
          posts += 1;
          // Three posts in five, in a fixed pattern: the same figures on every run.
          if (posts % 5 >= 2) return undefined;
          throttled += 1;
          return { status: 429, errorType: 'LimitExceededException', message: 'Rate exceeded' };
        },
      };
      const run = await ScenarioRun.begin(h, {
        id: 'connections-429-storm',
        test: expect.getState().currentTestName ?? '429 storm',
        file: 'test/reliability/scenarios/connections-faults.ts',
        promises: ['delivery', 'noLivePruned', 'noRowOutlives', 'noSilentDrop'],
        load: `${CLIENTS} clients on one topic tree, ${ROUNDS} rounds of 2 topic events and 1 direct-to-user event`,
        faults: ['429 LimitExceededException on 3 of every 5 posts, all along'],
        badInputs: [],
      });
      h.platform.gateway.setFaults(storm);
      await runScenario(run, 'storm', undefined);
      h.platform.gateway.setFaults(undefined);
      const deadLetters = (await dlqDepth(h)) - lettersBefore;
      const report = await run.finish({
        noSilentDrop: `${throttled} posts throttled out of ${posts}; ${deadLetters} dead letters`,
      });
      expectClean(report, h);
      expect(throttled).toBeGreaterThan(0);
      expect(deadLetters).toBe(0);
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'delivers every event through a 3-second outage where every post answers 500, dead-lettering nothing',
    async () => {
      const h = platform();
      const lettersBefore = await dlqDepth(h);
      let failedPosts = 0;
      let outageUntil = 0;
      const outage: GatewayFaults = {
        beforeConnectionsCall: ({ method }) => {
          if (method !== 'POST' || Date.now() >= outageUntil) return undefined;
          failedPosts += 1;
          return { status: 500, errorType: 'InternalServerErrorException', message: 'Internal server error' };
        },
      };
      const run = await ScenarioRun.begin(h, {
        id: 'connections-5xx-outage',
        test: expect.getState().currentTestName ?? '5xx outage',
        file: 'test/reliability/scenarios/connections-faults.ts',
        promises: ['delivery', 'noLivePruned', 'noRowOutlives', 'noSilentDrop'],
        load: `${CLIENTS} clients on one topic tree, ${ROUNDS} rounds of 2 topic events and 1 direct-to-user event`,
        faults: [
          `every post answers 500 InternalServerErrorException for ${OUTAGE_MS / 1000} s, from the 4th round`,
        ],
        badInputs: [],
      });
      h.platform.gateway.setFaults(outage);
      await runScenario(run, 'outage', {
        at: 3,
        run: () => {
          outageUntil = Date.now() + OUTAGE_MS;
        },
      });
      const deadLetters = (await dlqDepth(h)) - lettersBefore;
      const report = await run.finish({
        noSilentDrop: `${failedPosts} posts answered 500 during the outage; ${deadLetters} dead letters`,
      });
      expectClean(report, h);
      expect(failedPosts).toBeGreaterThan(0);
      expect(deadLetters).toBe(0);
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'delivers every event when one post in four takes longer than the request timeout, counting the duplicates',
    async () => {
      const h = platform();
      const lettersBefore = await dlqDepth(h);
      let posts = 0;
      let slow = 0;
      const slowCalls: GatewayFaults = {
        beforeConnectionsCall: async ({ method }) => {
          if (method !== 'POST') return undefined;
          posts += 1;
          if (posts % 4 === 0) {
            slow += 1;
            // Answered late, and then delivered: the fan-out gave up on it already and will post again.
            await sleep(SLOW_CALL_MS);
          }
          return undefined;
        },
      };
      const run = await ScenarioRun.begin(h, {
        id: 'connections-slow-calls',
        test: expect.getState().currentTestName ?? 'slow calls',
        file: 'test/reliability/scenarios/connections-faults.ts',
        promises: ['delivery', 'noLivePruned', 'noRowOutlives', 'noSilentDrop'],
        load: `${CLIENTS} clients on one topic tree, ${ROUNDS} rounds of 2 topic events and 1 direct-to-user event`,
        faults: [
          `1 post in 4 answered after ${SLOW_CALL_MS} ms, past the fan-out's ${REQUEST_TIMEOUT_MS} ms request timeout`,
        ],
        badInputs: [],
      });
      h.platform.gateway.setFaults(slowCalls);
      await runScenario(run, 'slow', undefined);
      h.platform.gateway.setFaults(undefined);
      const deadLetters = (await dlqDepth(h)) - lettersBefore;
      const report = await run.finish({
        noSilentDrop: `${slow} of ${posts} posts slower than the request timeout; ${deadLetters} dead letters`,
      });
      expectClean(report, h);
      expect(slow).toBeGreaterThan(0);
      // A post given up on and delivered anyway comes again: the duplicates are the price of no loss.
      expect(report.figures.duplicated).toBeGreaterThan(0);
      expect(deadLetters).toBe(0);
    },
    SCENARIO_TIMEOUT_MS,
  );
}
