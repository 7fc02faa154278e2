/**
 * The reliability suite (issue 8): one test per scenario, against one local platform with real `ws`
 * and client-SDK clients, each asserting per live client and event id that nothing was lost, nothing
 * misdelivered, no live connection pruned and no row leaked, and counting the duplicates.
 * `make reliability` runs it with RELIABILITY_REPORT_DIR set and renders docs/reliability.md from
 * what each scenario reports.
 */
import type { PlatformHarness } from '../support/platform';
import { churn } from './scenarios/churn';
import { connectionsFaults } from './scenarios/connections-faults';
import { crash } from './scenarios/crash';
import { disconnects } from './scenarios/disconnects';
import { dynamodbOutage } from './scenarios/dynamodb-outage';
import { poison } from './scenarios/poison';
import { restart } from './scenarios/restart';
import { tokens } from './scenarios/tokens';
import { ScenarioRun } from './support/scenario';
import { startSuitePlatform } from './support/suite';

let h: PlatformHarness | undefined;

beforeAll(async () => {
  h = await startSuitePlatform();
}, 30_000);

afterEach(() => {
  // A scenario that failed half-way must not leave its clients and faults to the next.
  ScenarioRun.abandonAll();
  h?.platform.gateway.setFaults(undefined);
  h?.platform.dynamodb.setFaults(undefined);
});

afterAll(async () => {
  await h?.close();
});

const platform = (): PlatformHarness => {
  if (!h) throw new Error('the platform did not start');
  return h;
};

describe('churn', () => churn(platform));
describe('abrupt disconnects', () => disconnects(platform));
describe('@connections faults', () => connectionsFaults(platform));
describe('DynamoDB unavailable', () => dynamodbOutage(platform));
describe('the fan-out function crashing', () => crash(platform));
describe('a gateway restart', () => restart(platform));
describe('poison events', () => poison(platform));
describe('tokens and grants', () => tokens(platform));
