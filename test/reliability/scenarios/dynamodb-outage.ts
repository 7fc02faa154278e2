/**
 * DynamoDB unavailable for a few seconds (issue 8), through the local DynamoDB's fault hook: every
 * call answers 503 ServiceUnavailable while events flow, clients subscribe, connect and leave. The
 * fan-out's records fail and SQS gives them back after the visibility timeout; subscribes get a
 * definite answer (an error the client can retry); connects are refused; leaving clients whose
 * `$disconnect` could not delete their rows are pruned on 410 Gone by the next events once it is back.
 */
import { SERVICE_UNAVAILABLE } from '../../../local/dynamodb/faults';
import type { Frame } from '../../support/platform';
import { expectClean, pause, SCENARIO_TIMEOUT_MS, ScenarioRun } from '../support/scenario';
import { CONNECTING_GRACE_SECONDS, type Platform } from '../support/suite';

const CLIENTS = 10;
const ROUNDS = 12;
const OUTAGE_MS = 3_000;

export function dynamodbOutage(platform: Platform): void {
  it(
    'delivers every event published during a 3-second DynamoDB outage, refuses what it cannot store, and leaks no row',
    async () => {
      const h = platform();
      const run = await ScenarioRun.begin(h, {
        id: 'dynamodb-outage',
        test: expect.getState().currentTestName ?? 'DynamoDB outage',
        file: 'test/reliability/scenarios/dynamodb-outage.ts',
        promises: ['delivery', 'noLivePruned', 'noRowOutlives', 'noSilentDrop'],
        load: `${CLIENTS} clients on db/*, ${ROUNDS} rounds of 2 topic events and 1 direct-to-user event; during the outage 2 subscribes, 2 connects and 2 clients leaving`,
        faults: [
          `every DynamoDB call answers 503 ServiceUnavailable for ${OUTAGE_MS / 1000} s, from the 4th round`,
        ],
        badInputs: [],
      });
      await run.connectAll(
        Array.from({ length: CLIENTS }, (_, i) => ({
          name: `db${i}`,
          sub: `db-user${i}`,
          grants: ['db/*', 'more/*'],
          subscribe: ['db/*'],
        })),
      );
      await pause(CONNECTING_GRACE_SECONDS * 1000);

      let calls = 0;
      const during: Promise<void>[] = [];
      const answers: Frame[] = [];
      const refusals: string[] = [];
      for (let round = 0; round < ROUNDS; round += 1) {
        if (round === 3) {
          h.platform.dynamodb.setFaults({
            beforeCall: () => {
              calls += 1;
              return SERVICE_UNAVAILABLE;
            },
          });
          const outageOver = pause(OUTAGE_MS).then(() => h.platform.dynamodb.setFaults(undefined));
          // Each gets a definite answer: an error it may retry, never silence.
          for (const name of ['db0', 'db1']) {
            during.push(
              run
                .client(name)
                .request({ action: 'subscribe', topics: ['more/x'] })
                .then((reply) => {
                  answers.push(reply);
                }),
            );
          }
          for (const k of [0, 1]) {
            during.push(
              h.connect(`db-late${k}`, ['db/*']).then(
                (client) => {
                  refusals.push(`accepted ${client.connectionId}`);
                },
                (err: Error) => {
                  refusals.push(err.message);
                },
              ),
            );
          }
          // Their `$disconnect` fails: the rows stay until an event finds them gone.
          during.push(run.leave('db8'), run.leave('db9'));
          during.push(outageOver);
        }
        await run.publish(
          { detail: { topics: ['db/a'], data: { round } } },
          { detail: { topics: ['db/b'], data: { round } } },
          { detail: { users: [`db-user${round % CLIENTS}`], data: { round } } },
        );
        await pause(60);
      }
      await Promise.all(during);
      // A subscribe refused during the outage is retried by the client once it is over.
      for (const [i, answer] of answers.entries()) {
        if (answer.type !== 'subscribed') await run.subscribe(`db${i}`, ['more/x']);
      }
      await run.waitForDelivery();
      // The clients that left during the outage still have rows: the next events find them gone.
      await run.publish({ detail: { topics: ['db/sweep'], data: 'after the outage' } });
      await run.waitForDelivery();

      const report = await run.finish({
        noSilentDrop: `${calls} DynamoDB calls refused; subscribes during the outage answered ${answers.map((a) => (a.type === 'error' ? `error ${String(a.code)}` : String(a.type))).join(', ')}; connects during it: ${refusals.join('; ')}`,
      });
      expectClean(report, h);
      expect(calls).toBeGreaterThan(0);
      expect(answers).toHaveLength(2);
      for (const answer of answers) expect(['subscribed', 'error']).toContain(answer.type);
    },
    SCENARIO_TIMEOUT_MS,
  );
}
