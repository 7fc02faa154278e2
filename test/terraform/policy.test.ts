// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform expressions, not JS templates
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate, moduleScope, toJson, withBindings } from '../../scripts/terraform/evaluate.js';
import {
  isBlockList,
  isObject,
  type Json,
  type JsonObject,
  loadModule,
  oneLabelBlocks,
  twoLabelBlocks,
} from '../../scripts/terraform/hcl.js';
import {
  functionSpec,
  isFunctionName,
  manifest,
  POLICY_RESOURCES,
  WIRED_SOURCES,
} from '../../shared/deployment/manifest.js';
import {
  asObject,
  expression,
  functionNames,
  isReadOnlyAction,
  loadStack,
  local,
  moduleDir,
  nested,
  resource,
  resources,
  type Stack,
  statements,
  strings,
  terraformBlock,
  variable,
} from './stack.js';

let stack: Stack;

/** The root stack's `module "fanout"` block. */
function rootModuleCall(): JsonObject {
  const call = oneLabelBlocks(stack.root, 'module').find((block) => block.labels[0] === 'fanout');
  if (!call) throw new Error('the root stack calls no module "fanout"');
  return call.body;
}

/** What the root stack passes the module, given the root's variables (a tfvars file's content). */
function moduleInputs(rootVariables: Record<string, Json>): Record<string, Json> {
  const scope = moduleScope(stack.root, rootVariables);
  return Object.fromEntries(
    Object.entries(rootModuleCall())
      .filter(([key]) => key !== 'source')
      .map(([key, expression]) => [key, toJson(evaluate(expression, scope))]),
  );
}

beforeAll(async () => {
  stack = await loadStack();
});

/** Route functions: every function API Gateway invokes for a route (not the authorizer or fan-out). */
const ROUTED = (names: string[]): string[] =>
  names.filter((name) => name !== 'fanout' && name !== 'authorizer');

/**
 * What each function calls (the functions' own contract, stated in functions.json), and nothing more:
 * the actions of every statement of its manifest entry.
 */
const expectedActions = (name: string): string[] =>
  isFunctionName(name)
    ? functionSpec(name).policy.flatMap((statement) => statement.actions)
    : ['(no expectation)'];

/** The value of an expression of the module, with some of its inputs given (the rest default). */
function value(expression: Json | undefined, inputs: Record<string, Json> = {}): Json {
  return toJson(evaluate(expression, moduleScope(stack.module, inputs)));
}

/** Numeric value of an expression of the module, with some of its inputs given. */
function numeric(expression: Json | undefined, inputs: Record<string, Json> = {}): number {
  const result = value(expression, inputs);
  if (typeof result !== 'number')
    throw new Error(`not a number: ${JSON.stringify(expression)} is ${JSON.stringify(result)}`);
  return result;
}

describe('the Terraform stack', () => {
  describe('logs', () => {
    it('gives every log group a retention', () => {
      const groups = stack.all.flatMap((module) => resources(module, 'aws_cloudwatch_log_group'));
      expect(groups.length).toBeGreaterThanOrEqual(2);
      for (const group of groups) {
        const retention = group.body.retention_in_days;
        const days = numeric(retention /* with the variable's default */);
        expect({ group: group.labels.join('.'), days: days > 0 }).toEqual({
          group: group.labels.join('.'),
          days: true,
        });
      }
      // The variable only accepts retention periods CloudWatch knows, and 0 ("never expire") is not one.
      const retention = variable(stack.module, 'log_retention_in_days');
      const validation = isBlockList(retention.validation) ? retention.validation[0] : undefined;
      const allowed = /contains\(\[([0-9, ]+)\]/
        .exec(String(validation?.condition))?.[1]
        ?.split(',')
        .map(Number);
      expect(allowed).toContain(retention.default);
      expect(allowed).not.toContain(0);
    });

    it('gives every function its own log group, wired through logging_config', () => {
      const fn = resource(stack.module, 'aws_lambda_function', 'this');
      expect(nested(fn, 'logging_config').log_group).toBe(
        '${aws_cloudwatch_log_group.lambda[each.key].name}',
      );
      expect(resource(stack.module, 'aws_cloudwatch_log_group', 'lambda').for_each).toBe(
        '${local.functions}',
      );
    });
  });

  describe('the fan-out queue and its consumer', () => {
    it('reports batch item failures and caps concurrency on the event source mapping', () => {
      const mapping = resource(stack.module, 'aws_lambda_event_source_mapping', 'fanout');
      expect(strings(mapping.function_response_types)).toContain('ReportBatchItemFailures');
      const maximum = nested(mapping, 'scaling_config').maximum_concurrency;
      expect(maximum).toBe('${local.fanout_queue.maximum_concurrency}');
      expect(mapping.batch_size).toBe('${local.fanout_queue.batch_size}');
      expect(mapping.maximum_batching_window_in_seconds).toBe(
        '${local.fanout_queue.batching_window_seconds}',
      );
      expect(mapping.event_source_arn).toBe('${aws_sqs_queue.fanout.arn}');
      expect(mapping.function_name).toBe('${aws_lambda_alias.live["fanout"].arn}');
      // functions.json's default, and the module user's value when there is one.
      const concurrency = numeric(maximum);
      expect(concurrency).toBe(manifest.fanout_queue.maximum_concurrency.default);
      expect(concurrency).toBeGreaterThanOrEqual(2);
      expect(concurrency).toBeLessThanOrEqual(1000);
      expect(numeric(maximum, { fanout_queue: { maximum_concurrency: 7 } })).toBe(7);
    });

    it('keeps the visibility timeout at least 6 times the fan-out timeout', () => {
      const queue = resource(stack.module, 'aws_sqs_queue', 'fanout');
      const fn = resource(stack.module, 'aws_lambda_function', 'this');
      expect([fn.for_each, fn.timeout]).toEqual(['${local.functions}', '${each.value.timeout}']);
      for (const timeout of [1, 10, 60, 300, 900]) {
        for (const window of [0, 5, 300]) {
          const inputs = {
            functions: { fanout: { timeout } },
            fanout_queue: { batching_window_seconds: window },
          };
          const visibility = numeric(queue.visibility_timeout_seconds, inputs);
          const fanoutTimeout = numeric('${local.functions.fanout.timeout}', inputs);
          expect(fanoutTimeout).toBe(timeout);
          expect(visibility).toBeGreaterThanOrEqual(6 * fanoutTimeout);
          expect(visibility).toBeLessThanOrEqual(43200); // the SQS maximum
        }
      }
    });

    it('encrypts every queue and sends dead letters where they can be redriven', () => {
      for (const queue of resources(stack.module, 'aws_sqs_queue')) {
        expect({ queue: queue.labels[1], sse: queue.body.sqs_managed_sse_enabled }).toEqual({
          queue: queue.labels[1],
          sse: true,
        });
      }
      const redrive = resource(stack.module, 'aws_sqs_queue', 'fanout').redrive_policy;
      expect(redrive).toContain('deadLetterTargetArn = aws_sqs_queue.fanout_dlq.arn');
      expect(redrive).toContain('maxReceiveCount     = local.fanout_queue.max_receive_count');
    });
  });

  describe('IAM', () => {
    it('writes every policy with aws_iam_policy_document', () => {
      const policyArgs: [string, string][] = [
        ['aws_iam_role', 'assume_role_policy'],
        ['aws_iam_role_policy', 'policy'],
        ['aws_iam_policy', 'policy'],
        ['aws_sqs_queue_policy', 'policy'],
        ['aws_sns_topic_policy', 'policy'],
      ];
      const documents = new Map(
        stack.all.flatMap((module) =>
          twoLabelBlocks(module, 'data')
            .filter((block) => block.labels[0] === 'aws_iam_policy_document')
            .map((block) => [block.labels[1], block.body]),
        ),
      );
      for (const module of stack.all) {
        for (const [type, arg] of policyArgs) {
          for (const block of resources(module, type)) {
            const value = expression(block.body[arg]) ?? '';
            expect(`${block.labels.join('.')}.${arg} = ${value}`).toMatch(
              /= data\.aws_iam_policy_document\.[a-z_]+(\[each\.key\]|\[0\])?\.json$/,
            );
            // An instance of a document picked by each.key: the document has the same instances.
            const document = /aws_iam_policy_document\.([a-z_]+)\[each\.key\]/.exec(value)?.[1];
            if (document !== undefined) expect(documents.get(document)?.for_each).toBe(block.body.for_each);
            // The instance [0] of a counted document: the document is counted the same way.
            const counted = /aws_iam_policy_document\.([a-z_]+)\[0\]/.exec(value)?.[1];
            if (counted !== undefined) expect(documents.get(counted)?.count).toBe(block.body.count);
          }
        }
        for (const queue of resources(module, 'aws_sqs_queue')) expect(queue.body.policy).toBeUndefined();
        for (const doc of oneLabelBlocks(module, 'output'))
          expect(JSON.stringify(doc.body)).not.toMatch(/"Statement"/);
      }
      for (const statement of statements(stack.all)) expect(statement.effect).toBe('Allow');
    });

    it('attaches no managed policy except the one API Gateway account logging needs', () => {
      // The account-wide (per region) CloudWatch role of API Gateway writes the logs of every API in the
      // region, so it gets AWS's managed policy rather than one scoped to this stack's log group.
      const attachments = stack.all.flatMap((module) => resources(module, 'aws_iam_role_policy_attachment'));
      expect(attachments.map((block) => [block.labels[1], block.body.policy_arn, block.body.count])).toEqual([
        [
          'api_gateway_cloudwatch',
          'arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs',
          '${var.manage_api_gateway_account ? 1 : 0}',
        ],
      ]);
      for (const module of stack.all) {
        for (const role of resources(module, 'aws_iam_role'))
          expect(role.body.managed_policy_arns).toBeUndefined();
      }
    });

    it('grants no write action on Resource "*"', () => {
      const all = statements(stack.all);
      expect(all.length).toBeGreaterThan(10);
      for (const statement of all) {
        expect(statement.notActions).toEqual([]);
        expect(statement.notResources).toEqual([]);
        if (statement.resources.some((r) => r === '*')) {
          // X-Ray's write actions take no resource; they are granted only when tracing is on.
          const xray = statement.document === 'data.aws_iam_policy_document.tracing';
          const writes = statement.actions.filter(
            (action) => !isReadOnlyAction(action) && !(xray && action.startsWith('xray:Put')),
          );
          expect({ document: statement.document, sid: statement.sid, writes }).toEqual({
            document: statement.document,
            sid: statement.sid,
            writes: [],
          });
        }
      }
    });

    it('gives each function its own role allowed exactly what the function calls', () => {
      const role = resource(stack.module, 'aws_iam_role', 'this');
      expect(role.for_each).toBe('${local.functions}');
      expect(resource(stack.module, 'aws_lambda_function', 'this').role).toBe(
        '${aws_iam_role.this[each.key].arn}',
      );
      const policy = resource(stack.module, 'aws_iam_role_policy', 'this');
      expect(policy.role).toBe('${aws_iam_role.this[each.key].id}');
      expect(policy.policy).toBe('${data.aws_iam_policy_document.function[each.key].json}');
      const all = statements([stack.module]);
      for (const name of functionNames()) {
        const granted = all
          .filter((statement) => statement.document === `data.aws_iam_policy_document.function["${name}"]`)
          .flatMap((statement) => statement.actions);
        expect({ name, granted: [...granted].sort() }).toEqual({
          name,
          granted: [...expectedActions(name)].sort(),
        });
      }
      // Every name a statement in functions.json may give its resources stands for something.
      const bound = asObject(value('${local.policy_resources}'), 'local.policy_resources');
      for (const name of functionNames()) {
        expect(Object.keys(asObject(bound[name], name)).sort()).toEqual([...POLICY_RESOURCES].sort());
      }
    });

    it('lets functions write only their own log group and touch only the table in DynamoDB', () => {
      for (const statement of statements([stack.module])) {
        if (statement.actions.some((action) => action.startsWith('logs:'))) {
          const name = statement.key ?? statement.document.replace('data.aws_iam_policy_document.', '');
          expect(statement.resources).toEqual([`\${aws_cloudwatch_log_group.lambda["${name}"].arn}:*`]);
        }
        if (statement.actions.some((action) => action.startsWith('dynamodb:'))) {
          expect(statement.resources).toEqual(['${aws_dynamodb_table.this.arn}']);
        }
      }
    });

    it('scopes ManageConnections to POST on the stage @connections API', () => {
      const manage = statements(stack.all).filter((statement) =>
        statement.actions.some((action) => action.startsWith('execute-api:')),
      );
      // The fan-out posts events; subscribe posts the events a recovering connection missed, and so
      // does the HTTP route backend that replaces it (route_backend = "http").
      expect(manage.map((statement) => statement.document).sort()).toEqual([
        'data.aws_iam_policy_document.backend',
        'data.aws_iam_policy_document.function["fanout"]',
        'data.aws_iam_policy_document.function["subscribe"]',
      ]);
      for (const statement of manage) {
        expect(statement.actions).toEqual(['execute-api:ManageConnections']);
        for (const arn of statement.resources) {
          expect(arn).toMatch(
            /^\$\{aws_apigatewayv2_stage\.this\.execution_arn\}\/(POST|GET|DELETE)\/@connections\/\*$/,
          );
        }
        expect(statement.resources).toContain(
          '${aws_apigatewayv2_stage.this.execution_arn}/POST/@connections/*',
        );
      }
    });

    it('lets only the fan-out rule send to the queues, checked with aws:SourceArn', () => {
      const target = resource(stack.module, 'aws_cloudwatch_event_target', 'fanout');
      const targetQueues = [expression(target.arn), expression(nested(target, 'dead_letter_config').arn)];
      expect(targetQueues).toEqual(['aws_sqs_queue.fanout.arn', 'aws_sqs_queue.events_dlq.arn']);
      const policies = resources(stack.module, 'aws_sqs_queue_policy');
      for (const queueArn of targetQueues) {
        const queue = queueArn?.replace(/\.arn$/, '');
        const policy = policies.find((block) => expression(block.body.queue_url) === `${queue}.url`);
        expect(policy).toBeDefined();
        const document = expression(policy?.body.policy)?.replace(/\.json$/, '');
        const granted = statements([stack.module]).filter((statement) => statement.document === document);
        expect(granted.length).toBeGreaterThan(0);
        for (const statement of granted) {
          expect(statement.principals).toEqual([{ type: 'Service', identifiers: ['events.amazonaws.com'] }]);
          expect(statement.actions).toEqual(['sqs:SendMessage']);
          expect(statement.resources).toEqual([`\${${queueArn}}`]);
          expect(statement.conditions).toEqual([
            {
              test: 'ArnEquals',
              variable: 'aws:SourceArn',
              values: ['${aws_cloudwatch_event_rule.fanout.arn}'],
            },
          ]);
        }
      }
    });

    it('outputs a publisher policy that may only put events on the bus', () => {
      const publisher = statements([stack.module]).filter(
        (statement) => statement.document === 'data.aws_iam_policy_document.publisher',
      );
      expect(publisher.map((s) => [s.actions, s.resources])).toEqual([
        [['events:PutEvents'], ['${aws_cloudwatch_event_bus.this.arn}']],
      ]);
      expect(resource(stack.module, 'aws_iam_policy', 'publisher').policy).toBe(
        '${data.aws_iam_policy_document.publisher.json}',
      );
    });
  });

  describe('functions', () => {
    it('has a zip, a role, a log group and (for route functions) a route for every function in functions/', () => {
      const names = functionNames();
      expect(names).toEqual(
        expect.arrayContaining([
          'authorizer',
          'connect',
          'default',
          'disconnect',
          'fanout',
          'subscribe',
          'unsubscribe',
        ]),
      );
      const declared = Object.keys(asObject(value('${local.functions}'), 'local.functions')).sort();
      expect(declared).toEqual(names);
      const fn = resource(stack.module, 'aws_lambda_function', 'this');
      expect(fn.for_each).toBe('${local.functions}');
      expect(fn.filename).toBe('${var.artifacts_dir}/${each.key}.zip');
      expect(fn.source_code_hash).toBe('${filebase64sha256("${var.artifacts_dir}/${each.key}.zip")}');
      for (const [type, name] of [
        ['aws_iam_role', 'this'],
        ['aws_iam_role_policy', 'this'],
        ['aws_cloudwatch_log_group', 'lambda'],
      ] as const) {
        expect(`${type}.${name}: ${String(resource(stack.module, type, name).for_each)}`).toBe(
          `${type}.${name}: \${local.functions}`,
        );
      }
      const routes = asObject(local(stack.module, 'routes'), 'local.routes');
      const routed = Object.values(routes).map((route) => asObject(route, 'route').function);
      expect([...new Set(routed)].sort()).toEqual(ROUTED(names));
      expect(resource(stack.module, 'aws_apigatewayv2_authorizer', 'this').authorizer_uri).toBe(
        '${aws_lambda_alias.live["authorizer"].invoke_arn}',
      );
    });

    it("runs every function on functions.json's runtime (nodejs22.x), arm64, with source maps", () => {
      const fn = resource(stack.module, 'aws_lambda_function', 'this');
      // One source of truth: the build derives its esbuild target from the same field.
      expect(fn.runtime).toBe('${local.manifest.runtime}');
      expect(value(fn.runtime)).toBe(manifest.runtime);
      expect(manifest.runtime).toBe('nodejs22.x');
      expect(fn.architectures).toEqual(['arm64']);
      expect(fn.handler).toBe('index.handler');
      expect(fn.memory_size).toBe('${each.value.memory_size}');
      const common = asObject(local(stack.module, 'common_environment'), 'local.common_environment');
      expect(common).toEqual({
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_LOG_LEVEL: '${var.log_level}',
        POWERTOOLS_METRICS_NAMESPACE: '${var.metrics_namespace}',
      });
    });

    it('passes each function the environment variables it reads', () => {
      // What each function reads is its entry in functions.json, which its handler parses at cold start.
      const environment = asObject(value('${local.function_environment}'), 'local.function_environment');
      const keys = (name: string): string[] => Object.keys(asObject(environment[name], name)).sort();
      for (const name of functionNames()) {
        const declared = isFunctionName(name)
          ? Object.keys(functionSpec(name).environment)
          : ['(not in functions.json)'];
        expect({ name, keys: keys(name) }).toEqual({ name, keys: declared.sort() });
      }
      expect(keys('authorizer')).toEqual(expect.arrayContaining(['AUTH_JWT_SECRET', 'AUTH_JWKS_URL']));
      for (const name of ['connect', 'unsubscribe']) expect(keys(name)).toEqual(['TABLE_NAME']);
      expect(keys('disconnect')).toEqual(['HISTORY_RETENTION_SECONDS', 'TABLE_NAME']);
      expect(keys('default')).toEqual([]);
      expect(keys('fanout')).toEqual(
        expect.arrayContaining([
          'DLQ_URL',
          'MANAGEMENT_ENDPOINT',
          'QUEUE_URL',
          'TABLE_NAME',
          'FANOUT_CONCURRENCY',
        ]),
      );

      // Wired values come from the resources (and the authentication inputs) ...
      expect(local(stack.module, 'wired')).toEqual({
        table_name: '${aws_dynamodb_table.this.name}',
        fanout_queue_url: '${aws_sqs_queue.fanout.url}',
        fanout_dlq_url: '${aws_sqs_queue.fanout_dlq.url}',
        management_endpoint: '${local.management_endpoint}',
        auth_jwt_secret: null,
        auth_jwt_secret_parameter: '${local.jwt_secret_parameter_name}',
        auth_jwt_secret_version: '${local.hs256 ? tostring(var.auth_jwt_secret_version) : null}',
        auth_jwks_url: '${var.auth_jwks_url}',
        auth_issuer: '${var.auth_issuer}',
        auth_audience: '${var.auth_audience}',
      });
      expect(Object.keys(asObject(local(stack.module, 'wired'), 'wired')).sort()).toEqual(
        [...WIRED_SOURCES].sort(),
      );
      const fanout = asObject(environment.fanout, 'fanout');
      expect([fanout.QUEUE_URL, fanout.DLQ_URL, fanout.TABLE_NAME]).toEqual([
        '${aws_sqs_queue.fanout.url}',
        '${aws_sqs_queue.fanout_dlq.url}',
        '${aws_dynamodb_table.this.name}',
      ]);
      expect(local(stack.module, 'management_endpoint')).toBe(
        'https://${aws_apigatewayv2_api.this.id}.execute-api.${data.aws_region.current.region}.${data.aws_partition.current.dns_suffix}/${var.stage_name}',
      );
      expect(resource(stack.module, 'aws_apigatewayv2_stage', 'this').name).toBe('${var.stage_name}');

      // ... settings are functions.json's defaults, or the module user's values.
      const concurrency = manifest.functions.fanout?.environment.FANOUT_CONCURRENCY;
      expect(fanout.FANOUT_CONCURRENCY).toBe(String(concurrency?.type === 'integer' && concurrency.default));
      const tuned = asObject(
        value('${local.function_environment}', { settings: { FANOUT_CONCURRENCY: '64' } }),
        'tuned',
      );
      expect(asObject(tuned.fanout, 'fanout').FANOUT_CONCURRENCY).toBe('64');
    });

    it('fails the plan, one line per problem, on overrides functions.json does not allow', () => {
      const output = oneLabelBlocks(stack.module, 'output').find((block) => block.labels[0] === 'settings');
      const preconditions = isBlockList(output?.body.precondition) ? output.body.precondition : [];
      expect(preconditions.map((p) => [p.condition, p.error_message])).toEqual(
        ['setting_problems', 'function_problems', 'fanout_queue_problems'].map((name) => [
          `\${length(local.${name}) == 0}`,
          `\${join("\\n", local.${name})}`,
        ]),
      );
      const inputs = {
        settings: { FANOUT_CONCURRENCY: '0', FANOUT_PAGE_SIZE: '2.5', MAX_SUBSCRIPTIONS: '100', NOPE: '1' },
        functions: { fanout: { timeout: 300 }, fanuot: { timeout: 300 } },
        fanout_queue: { maximum_concurrency: 1, batch_sise: 20, batch_size: 20 },
      };
      expect(value('${local.setting_problems}', inputs)).toEqual([
        'settings.FANOUT_CONCURRENCY must be an integer from 1 to 1000, got "0".',
        'settings.FANOUT_PAGE_SIZE must be an integer from 1 to 10000, got "2.5".',
        expect.stringMatching(
          /^settings\.NOPE is not a setting of any function \(functions\.json has AUTH_CLOCK/,
        ),
      ]);
      expect(value('${local.function_problems}', inputs)).toEqual([
        expect.stringMatching(
          /^functions\.fanuot is not a function \(functions\.json has authorizer, connect/,
        ),
      ]);
      expect(value('${local.fanout_queue_problems}', inputs)).toEqual([
        expect.stringMatching(/^fanout_queue\.batch_sise is not a setting of the fan-out queue/),
        'fanout_queue.maximum_concurrency must be a whole number from 2 to 1000, got 1.',
      ]);
    });

    it('leaves an unset authentication input, and the secret itself, out of the authorizer environment', () => {
      const fn = resource(stack.module, 'aws_lambda_function', 'this');
      const variables = nested(fn, 'environment').variables;
      const authorizerEnvironment = (inputs: Record<string, Json>) => {
        const scope = moduleScope(stack.module, inputs);
        const each = { key: 'authorizer', value: toJson(evaluate('${local.functions.authorizer}', scope)) };
        return asObject(toJson(evaluate(variables, withBindings(scope, { each }))), 'environment');
      };
      const common = ['NODE_OPTIONS', 'POWERTOOLS_LOG_LEVEL', 'POWERTOOLS_METRICS_NAMESPACE'];
      // HS256: the parameter's name and the secret's version, never the secret.
      const hs256 = authorizerEnvironment({ auth_jwt_secret: 'x'.repeat(32) });
      expect(Object.keys(hs256).sort()).toEqual(
        [
          'AUTH_CLOCK_TOLERANCE_SECONDS',
          'AUTH_JWT_SECRET_PARAMETER',
          'AUTH_JWT_SECRET_VERSION',
          ...common,
        ].sort(),
      );
      expect(hs256).toMatchObject({
        AUTH_JWT_SECRET_PARAMETER: '/fanout/auth-jwt-secret',
        AUTH_JWT_SECRET_VERSION: '1',
      });
      expect(JSON.stringify(hs256)).not.toContain('x'.repeat(32));
      const existing = authorizerEnvironment({ auth_jwt_secret_parameter_name: '/platform/jwt' });
      expect(existing.AUTH_JWT_SECRET_PARAMETER).toBe('/platform/jwt');
      // RS256/ES256: the key set and the claims, no parameter.
      const jwks = authorizerEnvironment({
        auth_jwks_url: 'https://id.example.com/jwks',
        auth_issuer: 'https://id',
      });
      expect(Object.keys(jwks).sort()).toEqual(
        ['AUTH_CLOCK_TOLERANCE_SECONDS', 'AUTH_ISSUER', 'AUTH_JWKS_URL', ...common].sort(),
      );
    });
  });

  describe('the WebSocket API', () => {
    it('routes frames by action, with two-way replies on $default, subscribe and unsubscribe', () => {
      const api = resource(stack.module, 'aws_apigatewayv2_api', 'this');
      expect([api.protocol_type, api.route_selection_expression]).toEqual([
        'WEBSOCKET',
        '$request.body.action',
      ]);
      const routes = asObject(local(stack.module, 'routes'), 'local.routes');
      expect(Object.keys(routes).sort()).toEqual([
        '$connect',
        '$default',
        '$disconnect',
        'subscribe',
        'unsubscribe',
      ]);
      const twoWay = Object.entries(routes)
        .filter(([, route]) => isObject(route) && route.two_way === true)
        .map(([key]) => key)
        .sort();
      expect(twoWay).toEqual(['$default', 'subscribe', 'unsubscribe']);
      const route = resource(stack.module, 'aws_apigatewayv2_route', 'this');
      expect(route.route_response_selection_expression).toBe('${each.value.two_way ? "$default" : null}');
      const response = resource(stack.module, 'aws_apigatewayv2_route_response', 'this');
      expect([response.for_each, response.route_response_key]).toEqual([
        '${local.two_way_routes}',
        '$default',
      ]);
    });

    it('checks the token from the query string on $connect only', () => {
      const authorizer = resource(stack.module, 'aws_apigatewayv2_authorizer', 'this');
      expect(authorizer.authorizer_type).toBe('REQUEST');
      expect(authorizer.identity_sources).toEqual(['route.request.querystring.token']);
      const route = resource(stack.module, 'aws_apigatewayv2_route', 'this');
      expect(route.authorization_type).toBe('${each.key == "$connect" ? "CUSTOM" : "NONE"}');
      expect(route.authorizer_id).toBe(
        '${each.key == "$connect" ? aws_apigatewayv2_authorizer.this.id : null}',
      );
    });

    it('scopes each invoke permission to its route or to the authorizer', () => {
      const route = resource(stack.module, 'aws_lambda_permission', 'route');
      // Every route's, unless route_backend = "http" creates no route function (route-backend.test.ts).
      expect(route.for_each).toBe('${local.lambda_routes}');
      expect(Object.keys(asObject(value('${local.lambda_routes}'), 'lambda_routes'))).toEqual(
        Object.keys(asObject(value('${local.routes}'), 'routes')),
      );
      expect(route.source_arn).toBe('${aws_apigatewayv2_stage.this.execution_arn}/${each.key}');
      const authorizer = resource(stack.module, 'aws_lambda_permission', 'authorizer');
      expect(authorizer.source_arn).toBe(
        '${aws_apigatewayv2_api.this.execution_arn}/authorizers/${aws_apigatewayv2_authorizer.this.id}',
      );
      for (const permission of resources(stack.module, 'aws_lambda_permission')) {
        expect(permission.body.principal).toBe('apigateway.amazonaws.com');
        expect(String(permission.body.source_arn)).not.toMatch(/\*/);
      }
    });

    it('throttles the stage and writes JSON access logs', () => {
      const stage = resource(stack.module, 'aws_apigatewayv2_stage', 'this');
      const settings = nested(stage, 'default_route_settings');
      expect(settings.throttling_burst_limit).toBe('${var.stage_throttling_burst_limit}');
      expect(settings.throttling_rate_limit).toBe('${var.stage_throttling_rate_limit}');
      const logs = nested(stage, 'access_log_settings');
      expect(logs.destination_arn).toBe('${aws_cloudwatch_log_group.access.arn}');
      expect(expression(logs.format)).toMatch(/^jsonencode\(\{/);
      expect(String(logs.format)).toContain('"$context.connectionId"');
    });
  });

  describe('events and storage', () => {
    it('reads the rule pattern from the file the local bus reads', () => {
      const rule = resource(stack.module, 'aws_cloudwatch_event_rule', 'fanout');
      expect(rule.event_pattern).toBe('${file("${path.module}/event-pattern.json")}');
      expect(rule.event_bus_name).toBe('${aws_cloudwatch_event_bus.this.name}');
      const pattern = join(moduleDir, 'event-pattern.json');
      expect(existsSync(pattern)).toBe(true);
      expect(() => JSON.parse(readFileSync(pattern, 'utf8'))).not.toThrow();
    });

    it('dead-letters what the event target cannot deliver', () => {
      const target = resource(stack.module, 'aws_cloudwatch_event_target', 'fanout');
      expect(nested(target, 'dead_letter_config').arn).toBe('${aws_sqs_queue.events_dlq.arn}');
      expect(nested(target, 'retry_policy').maximum_retry_attempts).toBe(
        '${var.event_target_maximum_retry_attempts}',
      );
    });

    it('keys the table on pk/sk, expires items on expiresAt and bills on demand', () => {
      const table = resource(stack.module, 'aws_dynamodb_table', 'this');
      expect([table.hash_key, table.range_key, table.billing_mode]).toEqual(['pk', 'sk', 'PAY_PER_REQUEST']);
      expect(table.attribute).toEqual([
        { name: 'pk', type: 'S' },
        { name: 'sk', type: 'S' },
      ]);
      expect(nested(table, 'ttl')).toEqual({ attribute_name: 'expiresAt', enabled: true });
      expect(nested(table, 'point_in_time_recovery').enabled).toBe('${var.table_point_in_time_recovery}');
    });
  });

  describe('alarms', () => {
    it('alarms on dead letters, backlog, errors, throttles and delivery failures', () => {
      const alarms = asObject(local(stack.module, 'alarms'), 'local.alarms');
      expect(Object.keys(alarms).sort()).toEqual([
        'api-client-errors',
        'api-execution-errors',
        'api-integration-errors',
        'authorizer-errors',
        'connect-errors',
        'delivery-failures',
        'events-dlq-not-empty',
        'events-dlq-send-failures',
        'events-failed-invocations',
        'fanout-backlog',
        'fanout-dlq-not-empty',
        'fanout-errors',
        'fanout-throttles',
      ]);
      const failures = asObject(alarms['delivery-failures'], 'delivery-failures');
      expect(failures).toMatchObject({
        namespace: '${var.metrics_namespace}',
        metric_name: 'Failed',
        dimensions: { service: 'fanout' },
        threshold: 0,
      });
      const alarm = resource(stack.module, 'aws_cloudwatch_metric_alarm', 'this');
      expect([alarm.alarm_actions, alarm.ok_actions]).toEqual([
        '${local.alarm_actions}',
        '${local.alarm_actions}',
      ]);
      expect(alarm.comparison_operator).toBe('GreaterThanThreshold');
    });
  });

  describe('the root stack', () => {
    it('keeps its state in S3 with a lock file, configured per environment', () => {
      const backend = asObject(terraformBlock(stack.root).backend, 'backend');
      const s3 = backend.s3;
      expect(isBlockList(s3) ? s3[0] : undefined).toEqual({ encrypt: true, use_lockfile: true });
      for (const env of ['dev', 'prod']) {
        const config = readFileSync(join(stack.root.dir, 'envs', `${env}.s3.tfbackend`), 'utf8');
        expect(config).toMatch(/^bucket\s*=/m);
        expect(config).toMatch(new RegExp(`^key\\s*=\\s*"fanout/${env}/terraform.tfstate"`, 'm'));
        expect(config).toMatch(/^region\s*=/m);
      }
    });

    it("takes the module's inputs as one object instead of re-declaring them", () => {
      const declared = oneLabelBlocks(stack.root, 'variable').map((block) => block.labels[0] as string);
      const moduleInputs = new Set(oneLabelBlocks(stack.module, 'variable').map((block) => block.labels[0]));
      // Only what this stack sets itself: names, the bundles' directory, tags and the secrets (sensitive).
      expect(declared.filter((name) => moduleInputs.has(name)).sort()).toEqual([
        'artifacts_dir',
        'auth_jwt_secret',
        'backend_proof',
        'name',
        'tags',
      ]);
      expect(declared.filter((name) => !moduleInputs.has(name)).sort()).toEqual([
        'environment',
        'fanout',
        'region',
      ]);
      expect(variable(stack.root, 'fanout')).toMatchObject({ type: '${any}', default: {}, nullable: false });
      expect(variable(stack.root, 'auth_jwt_secret').sensitive).toBe(true);
      expect(variable(stack.root, 'backend_proof').sensitive).toBe(true);
    });

    it("passes every input of the module on from var.fanout, under the module's own name", () => {
      const call = rootModuleCall();
      const own = ['name', 'artifacts_dir', 'auth_jwt_secret', 'backend_proof'];
      for (const block of oneLabelBlocks(stack.module, 'variable')) {
        const name = block.labels[0] as string;
        // Tags reach every resource through the provider's default_tags instead.
        if (name === 'tags') continue;
        expect({ name, passed: name in call }).toEqual({ name, passed: true });
        if (!own.includes(name)) expect(String(call[name])).toContain(`try(var.fanout.${name}, null)`);
        // null, for an input left out, must mean the module's default.
        if (!own.includes(name) && block.body.default !== null)
          expect({ name, nullable: block.body.nullable }).toEqual({ name, nullable: false });
      }
    });

    it.each(['dev', 'prod'])('delivers what envs/%s.tfvars sets to the module, as it says', async (env) => {
      const tfvars = (await loadModule(join(stack.root.dir, 'envs'), '.tfvars')).files.find(
        (file) => file.name === `${env}.tfvars`,
      )?.json;
      const fanout = asObject(tfvars?.fanout, `envs/${env}.tfvars: fanout`);
      const inputs = moduleInputs(tfvars ?? {});
      for (const [name, given] of Object.entries(fanout))
        expect({ name, value: inputs[name] }).toEqual({ name, value: given });
      expect(inputs.metrics_namespace).toBe(`fanout-${env}`);
      // Left out, the module's own default applies (it creates the account's role: a fresh account works).
      expect(inputs.manage_api_gateway_account).toBe(fanout.manage_api_gateway_account ?? null);
      // The overrides land where functions.json's defaults would, and the module finds nothing wrong.
      const queue = asObject(value('${local.fanout_queue}', inputs), 'local.fanout_queue');
      for (const [key, given] of Object.entries(asObject(fanout.fanout_queue ?? {}, 'fanout_queue'))) {
        expect({ key, value: queue[key] }).toEqual({ key, value: given });
      }
      const functions = asObject(value('${local.functions}', inputs), 'local.functions');
      for (const [name, overrides] of Object.entries(asObject(fanout.functions ?? {}, 'functions'))) {
        expect(asObject(functions[name], name)).toMatchObject(asObject(overrides, name));
      }
      for (const problems of ['setting_problems', 'function_problems', 'fanout_queue_problems']) {
        expect({ problems, found: value(`\${local.${problems}}`, inputs) }).toEqual({ problems, found: [] });
      }
    });

    it('pins Terraform 1.11 and the AWS provider 6.8 or a later 6.x, everywhere', () => {
      // 1.11: S3 native locking (use_lockfile) is generally available, and write-only arguments exist.
      // 6.8: the first provider accepting max_message_size up to 1 MiB; 6.x: destroy resets the
      // account's API Gateway setting (reset_on_delete is gone).
      for (const module of stack.all) {
        const block = terraformBlock(module);
        const providers = isBlockList(block.required_providers) ? block.required_providers[0] : undefined;
        expect({ dir: module.dir, aws: providers?.aws }).toEqual({
          dir: module.dir,
          aws: { source: 'hashicorp/aws', version: '~> 6.8' },
        });
        expect({ dir: module.dir, version: block.required_version }).toEqual({
          dir: module.dir,
          version: '>= 1.11.0',
        });
      }
    });

    it('outputs everything the walkthrough and the issue name', () => {
      const outputs = oneLabelBlocks(stack.root, 'output').map((block) => block.labels[0]);
      expect(outputs).toEqual(
        expect.arrayContaining([
          'websocket_url',
          'management_endpoint',
          'event_bus_name',
          'event_bus_arn',
          'publisher_policy_arn',
          'fanout_queue_url',
          'fanout_queue_arn',
          'fanout_dlq_url',
          'fanout_dlq_arn',
          'events_dlq_url',
          'events_dlq_arn',
          'table_name',
          'function_names',
          'region',
        ]),
      );
    });
  });
});
