/**
 * Abrupt disconnects (issue 8): while events flow, some clients vanish without a close frame and
 * their `$disconnect` runs (the gateway saw 1006), others vanish and their `$disconnect` is lost
 * (AWS documents it as best-effort). The rows of the lost ones are pruned on 410 Gone by the events
 * that still reach them (once they are past the connecting grace), and no live client is touched.
 */

import { expectClean, pause, SCENARIO_TIMEOUT_MS, ScenarioRun } from '../support/scenario';
import { CONNECTING_GRACE_SECONDS, type Platform } from '../support/suite';

const STAYING = 10;
const VANISHING = 10;
const ROUNDS = 16;

export function disconnects(platform: Platform): void {
  it(
    'prunes vanished clients, with and without $disconnect, and delivers everything to those that stay',
    async () => {
      const h = platform();
      /** Connections whose `$disconnect` the gateway drops. */
      const lost = new Set<string>();
      h.platform.gateway.setFaults({ dropDisconnect: (connectionId) => lost.has(connectionId) });
      const run = await ScenarioRun.begin(h, {
        id: 'abrupt-disconnects',
        test: expect.getState().currentTestName ?? 'abrupt disconnects',
        file: 'test/reliability/scenarios/disconnects.ts',
        promises: ['delivery', 'noLivePruned', 'noRowOutlives'],
        load: `${STAYING} clients staying and ${VANISHING} vanishing, all on ab/*, ${ROUNDS} rounds of 2 topic events and 1 direct-to-user event`,
        faults: [
          `${VANISHING / 2} sockets cut without a close frame, their $disconnect run`,
          `${VANISHING / 2} sockets cut without a close frame, their $disconnect lost`,
        ],
        badInputs: [],
      });
      await run.connectAll(
        Array.from({ length: STAYING + VANISHING }, (_, i) => ({
          name: i < STAYING ? `stay${i}` : `vanish${i - STAYING}`,
          sub: `u${i}`,
          grants: ['ab/*'],
          subscribe: ['ab/*'],
        })),
      );
      await pause(CONNECTING_GRACE_SECONDS * 1000);

      for (let round = 0; round < ROUNDS; round += 1) {
        if (round === ROUNDS / 4) {
          for (let k = 0; k < VANISHING; k += 1) {
            if (k % 2 === 1) lost.add(run.client(`vanish${k}`).connectionId);
            run.vanish(`vanish${k}`);
          }
        }
        await run.publish(
          { detail: { topics: ['ab/a'], data: { round } } },
          { detail: { topics: ['ab/b'], data: { round } } },
          { detail: { users: [`u${round % (STAYING + VANISHING)}`], data: { round } } },
        );
        await pause(80);
      }
      await run.waitForDelivery();
      const disconnectsLost = lost.size;
      const report = await run.finish({
        noRowOutlives: `${disconnectsLost} of ${VANISHING} vanished connections lost their $disconnect; their rows were pruned on 410 Gone`,
      });
      expectClean(report, h);
      expect(disconnectsLost).toBe(VANISHING / 2);
    },
    SCENARIO_TIMEOUT_MS,
  );
}
