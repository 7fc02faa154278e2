/**
 * Abrupt disconnects (issue 8): while events flow, some clients vanish without a close frame and
 * their `$disconnect` runs (the gateway saw 1006), others vanish and their `$disconnect` is lost
 * (AWS documents it as best-effort). The rows of the lost ones are pruned on 410 Gone by the events
 * that still reach them (once they are past the connecting grace), and no live client is touched.
 */
import { type PlatformHarness, startHarness } from '../support/platform';
import { expectClean, pause, RELIABILITY_LAMBDA, SCENARIO_TIMEOUT_MS, ScenarioRun } from './support/scenario';

const STAYING = 10;
const VANISHING = 10;
const ROUNDS = 20;
/** Shorter than the default 30 s, so that a lost connection's 410 is believed within the test. */
const CONNECTING_GRACE_SECONDS = 1;

let h: PlatformHarness;
/** Connections whose `$disconnect` the gateway drops. */
const lost = new Set<string>();

beforeAll(async () => {
  h = await startHarness({
    lambda: RELIABILITY_LAMBDA,
    overrides: { settings: { FANOUT_CONNECTING_GRACE_SECONDS: CONNECTING_GRACE_SECONDS } },
    faults: { dropDisconnect: (connectionId) => lost.has(connectionId) },
  });
}, 30_000);

afterAll(async () => {
  await h?.close();
});

it(
  'prunes vanished clients, with and without $disconnect, and delivers everything to those that stay',
  async () => {
    const run = new ScenarioRun(h, {
      id: 'abrupt-disconnects',
      test: expect.getState().currentTestName ?? 'abrupt disconnects',
      file: 'test/reliability/disconnects.test.ts',
      promises: ['delivery', 'noLivePruned', 'noRowOutlives'],
      load: `${STAYING} clients staying and ${VANISHING} vanishing, all on ab/*, ${ROUNDS} rounds of 2 topic events and 1 direct-to-user event`,
      faults: [
        `${VANISHING / 2} sockets cut without a close frame, their $disconnect run`,
        `${VANISHING / 2} sockets cut without a close frame, their $disconnect lost`,
      ],
      badInputs: [],
    });
    for (let i = 0; i < STAYING + VANISHING; i += 1) {
      const name = i < STAYING ? `stay${i}` : `vanish${i - STAYING}`;
      await run.connect(name, `u${i}`, ['ab/*']);
      await run.subscribe(name, ['ab/*']);
    }
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
