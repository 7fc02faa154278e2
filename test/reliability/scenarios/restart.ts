/**
 * A gateway restart with every socket dropped (issue 8): client-SDK clients lose their connection in
 * the middle of a stream (1006, no close frame; half of the `$disconnect`s lost, as a restart may
 * lose them), reconnect by themselves and resubscribe with `since`, and get back what they missed.
 * Wire duplicates (the recovery's overlap) are counted; the SDK hands each event to the application
 * once. The rows of the dropped connections go, by `$disconnect` or by 410 Gone.
 */

import {
  expectClean,
  pause,
  SCENARIO_TIMEOUT_MS,
  ScenarioRun,
  type SdkParticipant,
} from '../support/scenario';
import { CONNECTING_GRACE_SECONDS, type Platform } from '../support/suite';

const CLIENTS = 8;
const ROUNDS = 14;
const DROP_AT_ROUND = 5;

export function restart(platform: Platform): void {
  it(
    'gives every SDK client every event after a restart drops every socket mid-stream',
    async () => {
      const h = platform();
      let loseDisconnects = false;
      let cut = 0;
      h.platform.gateway.setFaults({
        // A restart may lose `$disconnect`s: every other one of the cut sockets.
        dropDisconnect: () => {
          if (!loseDisconnects) return false;
          cut += 1;
          return cut % 2 === 0;
        },
      });
      const run = await ScenarioRun.begin(h, {
        id: 'gateway-restart',
        test: expect.getState().currentTestName ?? 'gateway restart',
        file: 'test/reliability/scenarios/restart.ts',
        promises: ['delivery', 'noLivePruned', 'noRowOutlives'],
        load: `${CLIENTS} client-SDK clients on rs/*, ${ROUNDS} rounds of 2 topic events and 1 direct-to-user event`,
        faults: [
          `every socket cut at once (1006) at round ${DROP_AT_ROUND}; the $disconnect of every other one lost`,
        ],
        badInputs: [],
      });
      const clients: SdkParticipant[] = [];
      for (let i = 0; i < CLIENTS; i += 1)
        clients.push(await run.sdkClient(`rs${i}`, `rs-user${i}`, ['rs/*']));
      await Promise.all(clients.map((_, i) => run.sdkSubscribe(`rs${i}`, ['rs/*'])));
      await pause(CONNECTING_GRACE_SECONDS * 1000);

      let dropped = 0;
      for (let round = 0; round < ROUNDS; round += 1) {
        if (round === DROP_AT_ROUND) {
          loseDisconnects = true;
          dropped = h.platform.gateway.dropConnections();
        }
        await run.publish(
          { detail: { topics: ['rs/a'], data: { round } } },
          { detail: { topics: ['rs/b'], data: { round } } },
          { detail: { users: [`rs-user${round % CLIENTS}`], data: { round } } },
        );
        await pause(60);
      }
      await run.waitForDelivery();
      const recovered = clients.filter((c) => c.recoveries.some((r) => r.recovered)).length;
      const refused = clients.filter((c) => c.recoveries.some((r) => !r.recovered)).length;
      const none = clients.filter((c) => c.recoveries.length === 0).length;
      const resent = clients.reduce((sum, c) => sum + c.recoveries.reduce((n, r) => n + r.missed, 0), 0);
      const applicationDuplicates = clients.reduce(
        (sum, c) => sum + c.applicationEvents.length - new Set(c.applicationEvents).size,
        0,
      );
      const report = await run.finish({
        delivery: `${recovered} of ${CLIENTS} clients recovered through since (${resent} events sent again; ${refused} told recovered: false, ${none} with no recovery reported); ${applicationDuplicates} duplicates reached the application`,
        noRowOutlives: `${dropped} sockets dropped, ${Math.floor(cut / 2)} of their $disconnects lost`,
      });
      expectClean(report, h);
      expect(dropped).toBe(CLIENTS);
      // Recovery really ran. A client told recovered: false, or whose recovery did not finish before
      // its live subscription caught up, must still have lost nothing: the figures above say so.
      expect(recovered).toBeGreaterThan(0);
      expect(applicationDuplicates).toBe(0);
    },
    SCENARIO_TIMEOUT_MS,
  );
}
