/**
 * Churn (issue 8): clients connecting, subscribing, toggling subscriptions and leaving while events
 * flow. Steady subscribers and togglers (subscribed to dr/* all along, toggling dr/y on and off while
 * direct-to-user events on dr/y arrive: the loss of defect 1) must each get every event they are owed;
 * transient clients come and go (half with a close frame, half vanishing) around them.
 */

import { expectClean, pause, SCENARIO_TIMEOUT_MS, ScenarioRun } from '../support/scenario';
import type { Platform } from '../support/suite';

const STEADY = 10;
const TOGGLERS = 4;
const TRANSIENTS = 8;
const ROUNDS = 12;

export function churn(platform: Platform): void {
  it(
    'delivers every owed event to steady clients and togglers while transient clients come and go',
    async () => {
      const h = platform();
      const run = await ScenarioRun.begin(h, {
        id: 'churn',
        test: expect.getState().currentTestName ?? 'churn',
        file: 'test/reliability/scenarios/churn.ts',
        promises: ['delivery', 'noLivePruned', 'noRowOutlives'],
        load: `${STEADY} steady clients on ch/*, ${TOGGLERS} clients on dr/* toggling dr/y, ${TRANSIENTS} transient clients (connect, subscribe, leave) over ${ROUNDS} rounds of 2 topic events and 1 direct-to-user event`,
        faults: ['half the transient clients vanish without a close frame'],
        badInputs: [],
      });
      await run.connectAll([
        ...Array.from({ length: STEADY }, (_, i) => ({
          name: `steady${i}`,
          sub: `s${i}`,
          grants: ['ch/*'],
          subscribe: ['ch/*'],
        })),
        ...Array.from({ length: TOGGLERS }, (_, i) => ({
          name: `tog${i}`,
          sub: `t${i}`,
          grants: ['dr/*'],
          subscribe: ['dr/*'],
        })),
      ]);

      let publishing = true;
      const toggling = Array.from({ length: TOGGLERS }, async (_, i) => {
        while (publishing) {
          await run.subscribe(`tog${i}`, ['dr/y']);
          await pause(40 + ((i * 7) % 30));
          await run.unsubscribe(`tog${i}`, ['dr/y']);
          await pause(60);
        }
      });
      const transients = (async () => {
        for (let k = 0; k < TRANSIENTS && publishing; k += 1) {
          const name = `transient${k}`;
          await run.connect(name, `x${k}`, ['ch/*']);
          await run.subscribe(name, ['ch/*']);
          await pause(100);
          if (k % 2 === 0) await run.leave(name);
          else run.vanish(name);
        }
      })();
      for (let round = 0; round < ROUNDS; round += 1) {
        await run.publish(
          { detail: { topics: ['ch/a'], data: { round } } },
          { detail: { topics: ['ch/b'], data: { round } } },
          { detail: { topics: ['dr/y'], users: [`t${round % TOGGLERS}`], data: { round } } },
        );
        await pause(80);
      }
      publishing = false;
      await Promise.all([...toggling, transients]);

      await run.waitForDelivery();
      const report = await run.finish();
      expectClean(report, h);
    },
    SCENARIO_TIMEOUT_MS,
  );
}
