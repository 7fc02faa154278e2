// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform expressions, not JS templates
/**
 * What a first `terraform apply` in a fresh account needs, read against the AWS and provider pages
 * (issue 11): access log variables the WebSocket API knows, defaults that work without an account
 * already set up, queues that take a near-limit event, and the module's recovery setting.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate, moduleScope, toJson, withBindings } from '../../scripts/terraform/evaluate.js';
import {
  isBlockList,
  type Json,
  loadModule,
  oneLabelBlocks,
  twoLabelBlocks,
} from '../../scripts/terraform/hcl.js';
import { functionSpec, manifest } from '../../shared/deployment/manifest.js';
import {
  asObject,
  expandBlocks,
  loadStack,
  local,
  nested,
  resource,
  resources,
  type Stack,
  statements,
  variable,
} from './stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await loadStack();
});

function value(expression: Json | undefined, inputs: Record<string, Json> = {}): Json {
  return toJson(evaluate(expression, moduleScope(stack.module, inputs)));
}

/**
 * Every `$context` variable the page "Configure logging for WebSocket APIs in API Gateway" (Amazon API
 * Gateway Developer Guide) lists for access logs. `$context.authorizer.<property>` (a key of the
 * authorizer's context) is the page's one pattern; the stage logs none.
 */
const WEBSOCKET_ACCESS_LOG_VARIABLES = new Set([
  '$context.apiId',
  '$context.authorize.error',
  '$context.authorize.latency',
  '$context.authorize.status',
  '$context.authorizer.error',
  '$context.authorizer.integrationLatency',
  '$context.authorizer.integrationStatus',
  '$context.authorizer.latency',
  '$context.authorizer.requestId',
  '$context.authorizer.status',
  '$context.authorizer.principalId',
  '$context.authenticate.error',
  '$context.authenticate.latency',
  '$context.authenticate.status',
  '$context.connectedAt',
  '$context.connectionId',
  '$context.domainName',
  '$context.error.message',
  '$context.error.messageString',
  '$context.error.responseType',
  '$context.error.validationErrorString',
  '$context.eventType',
  '$context.extendedRequestId',
  '$context.identity.accountId',
  '$context.identity.apiKey',
  '$context.identity.apiKeyId',
  '$context.identity.caller',
  '$context.identity.cognitoAuthenticationProvider',
  '$context.identity.cognitoAuthenticationType',
  '$context.identity.cognitoIdentityId',
  '$context.identity.cognitoIdentityPoolId',
  '$context.identity.principalOrgId',
  '$context.identity.sourceIp',
  '$context.identity.user',
  '$context.identity.userAgent',
  '$context.identity.userArn',
  '$context.integration.error',
  '$context.integration.integrationStatus',
  '$context.integration.latency',
  '$context.integration.requestId',
  '$context.integration.status',
  '$context.integrationLatency',
  '$context.integrationStatus',
  '$context.messageId',
  '$context.requestId',
  '$context.requestTime',
  '$context.requestTimeEpoch',
  '$context.routeKey',
  '$context.stage',
  '$context.status',
  '$context.waf.error',
  '$context.waf.latency',
  '$context.waf.status',
  '$context.webaclArn',
  '$context.wafResponseCode',
]);

/** The `$context.…` variables a log format uses. */
const contextVariables = (format: string): string[] => format.match(/\$context(?:\.[A-Za-z0-9_]+)+/g) ?? [];

describe('a first apply in a fresh account', () => {
  describe('the stage access log', () => {
    it('uses only $context variables the WebSocket logging page lists', () => {
      const format = value(
        nested(resource(stack.module, 'aws_apigatewayv2_stage', 'this'), 'access_log_settings').format,
      );
      expect(typeof format).toBe('string');
      const used = contextVariables(String(format));
      expect(used.length).toBeGreaterThan(10);
      expect(used.filter((name) => !WEBSOCKET_ACCESS_LOG_VARIABLES.has(name))).toEqual([]);
      // The integration's own error and status, which tell a failing function from a refused frame.
      expect(used).toEqual(
        expect.arrayContaining(['$context.integration.error', '$context.integration.status']),
      );
    });

    it('refuses a variable the page does not list, such as the HTTP API integrationErrorMessage', () => {
      const wrong =
        '{"integrationError":"$context.integrationErrorMessage","ip":"$context.identity.sourceIp"}';
      expect(contextVariables(wrong).filter((name) => !WEBSOCKET_ACCESS_LOG_VARIABLES.has(name))).toEqual([
        '$context.integrationErrorMessage',
      ]);
    });
  });

  describe("the account's API Gateway CloudWatch role", () => {
    it('is created by default, so that access logging can be enabled in an account that has none', () => {
      expect(variable(stack.module, 'manage_api_gateway_account')).toMatchObject({
        default: true,
        nullable: false,
      });
      const account = resource(stack.module, 'aws_api_gateway_account', 'this');
      expect(account.count).toBe('${var.manage_api_gateway_account ? 1 : 0}');
      expect(account.cloudwatch_role_arn).toBe('${aws_iam_role.api_gateway_cloudwatch[0].arn}');
      // The stage waits for the setting: enabling access logs fails until it is there.
      expect(resource(stack.module, 'aws_apigatewayv2_stage', 'this').depends_on).toEqual([
        '${aws_api_gateway_account.this}',
      ]);
      // No example or environment turns it off or on behind the reader's back.
      for (const module of stack.all.filter((m) => m !== stack.module)) {
        for (const call of oneLabelBlocks(module, 'module')) {
          expect({ dir: module.dir, set: call.body.manage_api_gateway_account }).toEqual({
            dir: module.dir,
            set: module === stack.root ? '${try(var.fanout.manage_api_gateway_account, null)}' : undefined,
          });
        }
      }
    });

    it('is reset on destroy, by a provider that has no reset_on_delete to forget', () => {
      // hashicorp/aws 6.0 removed reset_on_delete: destroy always resets the account setting. The
      // provider floor (policy.test.ts) keeps 5.x, which kept the setting pointing at a deleted role, out.
      const account = resource(stack.module, 'aws_api_gateway_account', 'this');
      expect(Object.keys(account).sort()).toEqual(['cloudwatch_role_arn', 'count', 'depends_on']);
    });

    it('tells whoever shares the account that destroying this stack resets the setting, and what the other stacks set', () => {
      // The setting is one per account and region: a second stack that also manages it would have
      // its logging reset by the first one's destroy (and the other way round).
      const description = String(variable(stack.module, 'manage_api_gateway_account').description);
      expect(description).toMatch(/destroying this stack resets it/);
      expect(description).toMatch(/false in every other stack of the account and region/);
      const readme = readFileSync(join(stack.root.dir, 'README.md'), 'utf8');
      expect(readme).toMatch(/manage_api_gateway_account/);
      expect(readme).toMatch(/### Two stacks in one account/);
    });
  });

  describe('the queues', () => {
    it('all take messages up to 1 MiB, the SQS maximum, from functions.json', () => {
      const queues = resources(stack.module, 'aws_sqs_queue');
      expect(queues.map((q) => q.labels[1]).sort()).toEqual(['events_dlq', 'fanout', 'fanout_dlq']);
      for (const queue of queues) {
        expect({ queue: queue.labels[1], size: queue.body.max_message_size }).toEqual({
          queue: queue.labels[1],
          size: '${local.fanout_queue.max_message_size}',
        });
      }
      expect(value('${local.fanout_queue.max_message_size}')).toBe(1_048_576);
      expect(manifest.fanout_queue.max_message_size).toMatchObject({ max: 1_048_576, default: 1_048_576 });
      // Above 256 KB plus the envelope EventBridge adds: a 256 KB PutEvents entry fits.
      expect(
        value('${local.fanout_queue.max_message_size}', { fanout_queue: { max_message_size: 400_000 } }),
      ).toBe(400_000);
      expect(
        value('${local.fanout_queue_problems}', { fanout_queue: { max_message_size: 2_000_000 } }),
      ).toEqual(['fanout_queue.max_message_size must be a whole number from 1024 to 1048576, got 2000000.']);
    });
  });

  describe('history_retention_seconds', () => {
    const spec = functionSpec('fanout').environment.HISTORY_RETENTION_SECONDS;

    it("validates the manifest's range for HISTORY_RETENTION_SECONDS and defaults to its default", () => {
      expect(spec).toMatchObject({ type: 'integer', min: 0, max: 86400, default: 600 });
      const declared = variable(stack.module, 'history_retention_seconds');
      expect(declared).toMatchObject({ type: '${number}', default: 600, nullable: false });
      const validation = isBlockList(declared.validation) ? declared.validation[0] : undefined;
      const condition = String(validation?.condition);
      expect(condition).toContain(`var.history_retention_seconds >= ${spec?.type === 'integer' && spec.min}`);
      expect(condition).toContain(`var.history_retention_seconds <= ${spec?.type === 'integer' && spec.max}`);
    });

    it('reaches every function that reads HISTORY_RETENTION_SECONDS, 0 included', () => {
      for (const retention of [600, 0, 86400]) {
        const settings = asObject(
          value('${local.function_settings}', { history_retention_seconds: retention }),
          'function_settings',
        );
        const readers = Object.entries(settings).filter(
          ([, s]) => 'HISTORY_RETENTION_SECONDS' in asObject(s, 'settings'),
        );
        expect(readers.map(([name]) => name).sort()).toEqual(['disconnect', 'fanout', 'subscribe']);
        for (const [, s] of readers)
          expect(asObject(s, 'settings').HISTORY_RETENTION_SECONDS).toBe(String(retention));
      }
    });

    it('refuses the same setting through settings, naming the input to use instead', () => {
      const inputs = { settings: { HISTORY_RETENTION_SECONDS: '60', FANOUT_CONCURRENCY: '64' } };
      expect(value('${local.setting_problems}', inputs)).toEqual([
        "settings.HISTORY_RETENTION_SECONDS is the module's history_retention_seconds input; set that instead.",
      ]);
    });
  });

  describe('monitoring', () => {
    it('alarms on the WebSocket API, the authorizer and connect, and the rule that feeds the queue', () => {
      const alarms = asObject(value('${local.alarms}'), 'local.alarms');
      const metric = (key: string) => {
        const alarm = asObject(alarms[key], key);
        return [alarm.namespace, alarm.metric_name, alarm.dimensions, alarm.threshold];
      };
      const api = { ApiId: '${aws_apigatewayv2_api.this.id}', Stage: 'live' };
      const rule = {
        EventBusName: '${aws_cloudwatch_event_bus.this.name}',
        RuleName: '${aws_cloudwatch_event_rule.fanout.name}',
      };
      expect(metric('api-integration-errors')).toEqual(['AWS/ApiGateway', 'IntegrationError', api, 0]);
      expect(metric('api-execution-errors')).toEqual(['AWS/ApiGateway', 'ExecutionError', api, 0]);
      expect(metric('api-client-errors')).toEqual(['AWS/ApiGateway', 'ClientError', api, 50]);
      for (const fn of ['authorizer', 'connect']) {
        expect(metric(`${fn}-errors`)).toEqual([
          'AWS/Lambda',
          'Errors',
          { FunctionName: `\${aws_lambda_function.this["${fn}"].function_name}` },
          0,
        ]);
      }
      expect(metric('events-failed-invocations')).toEqual(['AWS/Events', 'FailedInvocations', rule, 0]);
      expect(metric('events-dlq-send-failures')).toEqual([
        'AWS/Events',
        'InvocationsFailedToBeSentToDLQ',
        rule,
        0,
      ]);
    });

    it('traces the functions with X-Ray only when asked, granting X-Ray only then', () => {
      const fn = resource(stack.module, 'aws_lambda_function', 'this');
      const mode = nested(fn, 'tracing_config').mode;
      expect(value(mode)).toBe('PassThrough');
      expect(value(mode, { tracing_enabled: true })).toBe('Active');
      const policy = resource(stack.module, 'aws_iam_role_policy', 'tracing');
      expect(value(policy.for_each)).toEqual({});
      expect(
        Object.keys(asObject(value(policy.for_each, { tracing_enabled: true }), 'for_each')).sort(),
      ).toEqual(Object.keys(manifest.functions).sort());
      const xray = statements([stack.module]).filter(
        (st) => st.document === 'data.aws_iam_policy_document.tracing',
      );
      expect(xray.flatMap((st) => st.actions).sort()).toEqual([
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ]);
    });

    it('refuses alarms that notify nobody where notifications are required, as prod.tfvars requires', async () => {
      const alarm = resource(stack.module, 'aws_cloudwatch_metric_alarm', 'this');
      const lifecycle = isBlockList(alarm.lifecycle) ? alarm.lifecycle[0] : undefined;
      const precondition = isBlockList(lifecycle?.precondition) ? lifecycle.precondition[0] : undefined;
      const holds = (inputs: Record<string, Json>) => value(precondition?.condition, inputs);
      expect(holds({})).toBe(true);
      expect(holds({ alarm_notifications_required: true })).toBe(false);
      expect(
        holds({ alarm_notifications_required: true, alarm_sns_topic_arn: 'arn:aws:sns:eu-west-1:1:a' }),
      ).toBe(true);
      expect(String(precondition?.error_message)).toContain('alarm_sns_topic_arn is null');
      const tfvars = (await loadModule(join(stack.root.dir, 'envs'), '.tfvars')).files;
      const prod = asObject(tfvars.find((file) => file.name === 'prod.tfvars')?.json?.fanout, 'prod fanout');
      expect(prod.alarm_notifications_required).toBe(true);
      expect(prod.alarms_enabled).not.toBe(false);
    });
  });

  describe('rollback', () => {
    it('publishes a version of every function and has every caller invoke its live alias', () => {
      const fn = resource(stack.module, 'aws_lambda_function', 'this');
      expect(fn.publish).toBe(true);
      const alias = resource(stack.module, 'aws_lambda_alias', 'live');
      expect([alias.for_each, alias.name, alias.function_version]).toEqual([
        '${local.functions}',
        '${local.function_alias}',
        '${aws_lambda_function.this[each.key].version}',
      ]);
      expect(local(stack.module, 'function_alias')).toBe('live');
      expect(resource(stack.module, 'aws_apigatewayv2_integration', 'this').integration_uri).toBe(
        '${aws_lambda_alias.live[each.value.function].invoke_arn}',
      );
      expect(resource(stack.module, 'aws_apigatewayv2_authorizer', 'this').authorizer_uri).toBe(
        '${aws_lambda_alias.live["authorizer"].invoke_arn}',
      );
      expect(resource(stack.module, 'aws_lambda_event_source_mapping', 'fanout').function_name).toBe(
        '${aws_lambda_alias.live["fanout"].arn}',
      );
      // API Gateway invokes the alias, so the permissions are the alias's.
      expect(resource(stack.module, 'aws_lambda_permission', 'route').qualifier).toBe(
        '${aws_lambda_alias.live[each.value.function].name}',
      );
      expect(resource(stack.module, 'aws_lambda_permission', 'authorizer').qualifier).toBe(
        '${aws_lambda_alias.live["authorizer"].name}',
      );
      // Nothing invokes an unqualified function.
      const invokers = JSON.stringify([
        resources(stack.module, 'aws_apigatewayv2_integration'),
        resources(stack.module, 'aws_apigatewayv2_authorizer'),
        resources(stack.module, 'aws_lambda_event_source_mapping'),
      ]);
      expect(invokers).not.toMatch(/aws_lambda_function\.this\[[^\]]+\]\.(invoke_)?arn/);
    });
  });

  describe('the HS256 secret', () => {
    /** The authorizer's statements as its policy document makes them, for these module inputs. */
    const authorizerStatements = (inputs: Record<string, Json>) => {
      const scope = moduleScope(stack.module, inputs);
      const document = twoLabelBlocks(stack.module, 'data').find(
        (block) => block.labels[0] === 'aws_iam_policy_document' && block.labels[1] === 'function',
      );
      const each = { key: 'authorizer', value: toJson(evaluate('${local.functions.authorizer}', scope)) };
      return expandBlocks(document?.body ?? {}, 'statement', withBindings(scope, { each })).map((st) => ({
        sid: st.sid,
        actions: st.actions,
        resources: st.resources,
      }));
    };

    it('is created in a SecureString parameter as a write-only value, from an ephemeral variable', () => {
      const parameter = resource(stack.module, 'aws_ssm_parameter', 'auth_jwt_secret');
      expect(parameter).toMatchObject({
        count: '${local.create_secret_parameter ? 1 : 0}',
        type: 'SecureString',
        value_wo: '${var.auth_jwt_secret}',
        value_wo_version: '${var.auth_jwt_secret_version}',
      });
      expect(parameter.value).toBeUndefined();
      expect(parameter.insecure_value).toBeUndefined();
      expect(value('${local.jwt_secret_parameter_name}')).toBe('/fanout/auth-jwt-secret');
      for (const module of [stack.module, stack.root]) {
        expect(variable(module, 'auth_jwt_secret')).toMatchObject({ sensitive: true, ephemeral: true });
      }
      // The only place the module reads the secret is that write-only argument.
      const everything = JSON.stringify(stack.module.files.map((file) => file.json));
      const uses = everything.match(/var\.auth_jwt_secret(?![_a-z])/g) ?? [];
      const inValidations = JSON.stringify(variable(stack.module, 'auth_jwt_secret').validation).match(
        /var\.auth_jwt_secret(?![_a-z])/g,
      );
      expect(uses.length - (inValidations?.length ?? 0)).toBe(1);
    });

    it('is read from an existing parameter the module only names, so that it never passes through Terraform', () => {
      const inputs = { auth_jwt_secret_parameter_name: '/platform/fanout/jwt' };
      expect(value('${local.create_secret_parameter}', inputs)).toBe(false);
      expect(value('${local.jwt_secret_parameter_name}', inputs)).toBe('/platform/fanout/jwt');
      expect(value('${local.jwt_secret_parameter_arn}', inputs)).toBe(
        'arn:${data.aws_partition.current.partition}:ssm:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:parameter/platform/fanout/jwt',
      );
    });

    it('grants the authorizer ssm:GetParameter on that parameter alone, and nothing with a key set', () => {
      const hs256 = authorizerStatements({});
      expect(hs256).toContainEqual({
        sid: 'ReadSecretParameter',
        actions: ['ssm:GetParameter'],
        resources: [expect.stringMatching(/:parameter\/fanout\/auth-jwt-secret$/)],
      });
      const jwks = authorizerStatements({ auth_jwks_url: 'https://id.example.com/jwks' });
      expect(JSON.stringify(jwks)).not.toContain('ssm:');
      expect(jwks).toEqual([expect.objectContaining({ sid: 'WriteOwnLogs' })]);
    });

    it('refuses a secret with a key set or an existing parameter, and a line shorter than 32 bytes', () => {
      const declared = variable(stack.module, 'auth_jwt_secret');
      const validations = isBlockList(declared.validation) ? declared.validation : [];
      const holds = (inputs: Record<string, Json>) => validations.map((v) => value(v.condition, inputs));
      const secret = 'x'.repeat(32);
      expect(holds({ auth_jwt_secret: secret })).toEqual([true, true]);
      expect(holds({ auth_jwt_secret: `${'n'.repeat(40)}\n${secret}` })).toEqual([true, true]);
      expect(holds({ auth_jwt_secret: `${secret}\nshort` })).toEqual([false, true]);
      expect(holds({ auth_jwt_secret: secret, auth_jwks_url: 'https://id.example.com/jwks' })).toEqual([
        true,
        false,
      ]);
      expect(holds({ auth_jwt_secret: secret, auth_jwt_secret_parameter_name: '/p' })).toEqual([true, false]);
      const authorizer = resource(stack.module, 'aws_apigatewayv2_authorizer', 'this');
      const lifecycle = isBlockList(authorizer.lifecycle) ? authorizer.lifecycle[0] : undefined;
      const first = isBlockList(lifecycle?.precondition) ? lifecycle.precondition[0] : undefined;
      expect(
        value(first?.condition, { auth_jwks_url: 'https://id/jwks', auth_jwt_secret_parameter_name: '/p' }),
      ).toBe(false);
    });
  });
});
