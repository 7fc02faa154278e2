import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { FUNCTION_NAMES, functionSpec, integerSetting, manifest } from '../../shared/deployment/manifest.js';
import { functionEnvironment, numericVariableDefault, readStackSettings } from '../dev/settings.js';

const moduleDir = resolve(__dirname, '..', '..', 'terraform', 'modules', 'fanout');
const wired = {
  table_name: 'table',
  fanout_queue_url: 'queue',
  fanout_dlq_url: 'dlq',
  management_endpoint: 'http://127.0.0.1:1/local',
  auth_jwt_secret: 'secret',
  auth_jwt_secret_parameter: undefined,
  auth_jwt_secret_version: undefined,
  auth_jwks_url: undefined,
  auth_issuer: undefined,
  auth_audience: undefined,
};

describe('the settings fanout dev mirrors', () => {
  it("are the deployment manifest's, with the visibility timeout it derives", () => {
    const settings = readStackSettings(moduleDir);
    for (const fn of FUNCTION_NAMES) {
      const { memory_size, timeout } = functionSpec(fn);
      expect({ fn, ...settings.functions[fn] }).toEqual({ fn, memory_size, timeout });
    }
    const queue = manifest.fanout_queue;
    expect(settings.fanoutQueue).toEqual({
      batch_size: queue.batch_size.default,
      batching_window_seconds: queue.batching_window_seconds.default,
      maximum_concurrency: queue.maximum_concurrency.default,
      max_receive_count: queue.max_receive_count.default,
      max_message_size: queue.max_message_size.default,
      // Lambda's rule for an SQS event source, stated here on its own.
      visibility_timeout_seconds: 6 * functionSpec('fanout').timeout + queue.batching_window_seconds.default,
    });
    expect(settings.settings).toMatchObject({
      FANOUT_CONCURRENCY: integerSetting('fanout', 'FANOUT_CONCURRENCY').default,
      MAX_SUBSCRIPTIONS: integerSetting('subscribe', 'MAX_SUBSCRIPTIONS').default,
    });
    expect(settings.eventPattern).toEqual(expect.any(Object));
  });

  it("take overrides under the Terraform module's names, the visibility timeout following them", () => {
    const settings = readStackSettings(moduleDir, {
      settings: { FANOUT_CONCURRENCY: 4 },
      functions: { fanout: { timeout: 5 } },
      fanout_queue: { batching_window_seconds: 2, max_receive_count: 2 },
    });
    expect(settings.settings.FANOUT_CONCURRENCY).toBe(4);
    expect(settings.functions.fanout).toEqual({
      memory_size: functionSpec('fanout').memory_size,
      timeout: 5,
    });
    expect(settings.fanoutQueue).toMatchObject({
      max_receive_count: 2,
      visibility_timeout_seconds: 6 * 5 + 2,
    });
    // Tests may set the visibility timeout itself, which the module always derives.
    expect(
      readStackSettings(moduleDir, { fanout_queue: { visibility_timeout_seconds: 1 } }).fanoutQueue,
    ).toMatchObject({ visibility_timeout_seconds: 1 });
  });

  it('refuse a name the manifest does not have', () => {
    expect(() => readStackSettings(moduleDir, { settings: { FANOUT_CONCURENCY: 4 } })).toThrow(
      /settings: FANOUT_CONCURENCY not in functions\.json/,
    );
    expect(() => readStackSettings(moduleDir, { fanout_queue: { batch_sise: 2 } as never })).toThrow(
      /batch_sise/,
    );
    expect(() => readStackSettings(moduleDir, { functions: { fanuot: {} } as never })).toThrow(/fanuot/);
  });

  it('give each function the variables its manifest entry lists, leaving out what is not wired', () => {
    const settings = readStackSettings(moduleDir, { settings: { MAX_SUBSCRIPTIONS: 7 } });
    expect(functionEnvironment('subscribe', settings, wired)).toEqual({
      TABLE_NAME: 'table',
      MANAGEMENT_ENDPOINT: wired.management_endpoint,
      MAX_SUBSCRIPTIONS: '7',
      HISTORY_RETENTION_SECONDS: String(integerSetting('subscribe', 'HISTORY_RETENTION_SECONDS').default),
      FANOUT_MAX_PAGE_SECONDS: String(integerSetting('subscribe', 'FANOUT_MAX_PAGE_SECONDS').default),
      RECOVERY_MAX_EVENTS: String(integerSetting('subscribe', 'RECOVERY_MAX_EVENTS').default),
      FANOUT_REQUEST_TIMEOUT_MS: String(integerSetting('subscribe', 'FANOUT_REQUEST_TIMEOUT_MS').default),
    });
    expect(functionEnvironment('authorizer', settings, wired)).toEqual({
      AUTH_JWT_SECRET: 'secret',
      AUTH_CLOCK_TOLERANCE_SECONDS: String(
        integerSetting('authorizer', 'AUTH_CLOCK_TOLERANCE_SECONDS').default,
      ),
    });
    expect(functionEnvironment('default', settings, wired)).toEqual({});
    // Everything wired: every variable the entry lists is there.
    const all = {
      ...wired,
      auth_jwt_secret_parameter: '/p',
      auth_jwt_secret_version: '1',
      auth_jwks_url: 'https://id.example/jwks',
      auth_issuer: 'i',
      auth_audience: 'a',
    };
    for (const fn of FUNCTION_NAMES) {
      const listed = Object.keys(functionSpec(fn).environment).sort();
      expect({ fn, env: Object.keys(functionEnvironment(fn, settings, all)).sort() }).toEqual({
        fn,
        env: listed,
      });
    }
  });

  it("take the stage's throttling defaults from variables.tf, read as an HCL parser reads them", async () => {
    const source = readFileSync(join(moduleDir, 'variables.tf'), 'utf8');
    const hcl = (await parse('variables.tf', source)) as {
      variable: Record<string, [{ default: unknown }]>;
    };
    const expected: Record<string, unknown> = {};
    for (const name of ['stage_throttling_burst_limit', 'stage_throttling_rate_limit']) {
      expected[name] = hcl.variable[name]?.[0].default;
      expect(numericVariableDefault(source, name)).toBe(expected[name]);
    }
    expect(readStackSettings(moduleDir).stageThrottling).toEqual(expected);
    expect(
      readStackSettings(moduleDir, { stage_throttling_burst_limit: 20, stage_throttling_rate_limit: 2.5 })
        .stageThrottling,
    ).toEqual({ stage_throttling_burst_limit: 20, stage_throttling_rate_limit: 2.5 });
    // The module's validations, and a layout the reader does not know.
    expect(() => readStackSettings(moduleDir, { stage_throttling_burst_limit: 1.5 })).toThrow(/whole number/);
    expect(() => readStackSettings(moduleDir, { stage_throttling_rate_limit: -1 })).toThrow(/>= 0/);
    expect(() => numericVariableDefault('variable "x" {\n  default = "a"\n}\n', 'x')).toThrow(
      /variable "x" has no numeric default/,
    );
  });
});
