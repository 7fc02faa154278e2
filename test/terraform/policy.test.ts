// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform expressions, not JS templates
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateArithmetic, type Reference } from '../../scripts/terraform/expressions.js';
import { isBlockList, isObject, type Json, oneLabelBlocks } from '../../scripts/terraform/hcl.js';
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

beforeAll(async () => {
  stack = await loadStack();
});

/** Route functions: every function API Gateway invokes for a route (not the authorizer or fan-out). */
const ROUTED = (names: string[]): string[] =>
  names.filter((name) => name !== 'fanout' && name !== 'authorizer');

/** What each function calls (the functions' own contract), and nothing more. */
const EXPECTED_ACTIONS: Record<string, string[]> = {
  authorizer: ['logs:CreateLogStream', 'logs:PutLogEvents'],
  connect: ['logs:CreateLogStream', 'logs:PutLogEvents', 'dynamodb:PutItem', 'dynamodb:BatchWriteItem'],
  default: ['logs:CreateLogStream', 'logs:PutLogEvents'],
  disconnect: [
    'logs:CreateLogStream',
    'logs:PutLogEvents',
    'dynamodb:Query',
    'dynamodb:BatchWriteItem',
    'dynamodb:DeleteItem',
  ],
  subscribe: [
    'logs:CreateLogStream',
    'logs:PutLogEvents',
    'dynamodb:GetItem',
    'dynamodb:UpdateItem',
    'dynamodb:PutItem',
    'dynamodb:Query',
    'dynamodb:BatchWriteItem',
    'dynamodb:DeleteItem',
  ],
  fanout: [
    'logs:CreateLogStream',
    'logs:PutLogEvents',
    'dynamodb:Query',
    'dynamodb:GetItem',
    'dynamodb:BatchWriteItem',
    'dynamodb:DeleteItem',
    'sqs:ReceiveMessage',
    'sqs:DeleteMessage',
    'sqs:GetQueueAttributes',
    'sqs:ChangeMessageVisibility',
    'sqs:SendMessage',
    'execute-api:ManageConnections',
  ],
};
EXPECTED_ACTIONS.unsubscribe = EXPECTED_ACTIONS.subscribe ?? [];

/** Numeric value of `var.x` / `local.x` in the module, with some variables overridden. */
function evaluate(value: Json | undefined, vars: Record<string, number>): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') throw new Error(`not a number expression: ${JSON.stringify(value)}`);
  return evaluateArithmetic(value, (reference: Reference) => {
    const [root, name] = reference.steps;
    if (root === 'var' && name !== undefined) {
      const override = vars[name];
      if (override !== undefined) return override;
      const fallback = variable(stack.module, name).default;
      if (typeof fallback === 'number') return fallback;
    }
    if (root === 'local' && name !== undefined) return evaluate(local(stack.module, name), vars);
    throw new Error(`cannot evaluate ${reference.text}`);
  });
}

describe('the Terraform stack', () => {
  describe('logs', () => {
    it('gives every log group a retention', () => {
      const groups = stack.all.flatMap((module) => resources(module, 'aws_cloudwatch_log_group'));
      expect(groups.length).toBeGreaterThanOrEqual(2);
      for (const group of groups) {
        const retention = group.body.retention_in_days;
        const days =
          typeof retention === 'number' ? retention : evaluate(retention, {} /* the variable's default */);
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
      expect(nested(mapping, 'scaling_config').maximum_concurrency).toBe('${var.fanout_maximum_concurrency}');
      expect(mapping.batch_size).toBe('${var.fanout_batch_size}');
      expect(mapping.maximum_batching_window_in_seconds).toBe('${var.fanout_batching_window_seconds}');
      expect(mapping.event_source_arn).toBe('${aws_sqs_queue.fanout.arn}');
      expect(mapping.function_name).toBe('${aws_lambda_function.this["fanout"].arn}');
      const concurrency = evaluate('${var.fanout_maximum_concurrency}', {});
      expect(concurrency).toBeGreaterThanOrEqual(2);
      expect(concurrency).toBeLessThanOrEqual(1000);
    });

    it('keeps the visibility timeout at least 6 times the fan-out timeout', () => {
      const queue = resource(stack.module, 'aws_sqs_queue', 'fanout');
      const functions = asObject(local(stack.module, 'functions'), 'local.functions');
      const fanoutTimeout = asObject(functions.fanout, 'local.functions.fanout').timeout;
      expect(resource(stack.module, 'aws_lambda_function', 'this').timeout).toBe('${each.value.timeout}');
      for (const timeout of [1, 10, 60, 300, 900]) {
        for (const window of [0, 5, 300]) {
          const vars = { fanout_function_timeout: timeout, fanout_batching_window_seconds: window };
          const visibility = evaluate(queue.visibility_timeout_seconds, vars);
          expect(visibility).toBeGreaterThanOrEqual(6 * evaluate(fanoutTimeout, vars));
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
      expect(redrive).toContain('maxReceiveCount     = var.fanout_max_receive_count');
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
      const documentJson = /^data\.aws_iam_policy_document\.[a-z_]+\.json$/;
      for (const module of stack.all) {
        for (const [type, arg] of policyArgs) {
          for (const block of resources(module, type)) {
            const value = expression(block.body[arg]) ?? '';
            if (value === 'local.function_policies[each.key]') {
              const policies = asObject(local(module, 'function_policies'), 'local.function_policies');
              for (const policy of Object.values(policies)) expect(expression(policy)).toMatch(documentJson);
            } else {
              expect(`${block.labels.join('.')}.${arg} = ${value}`).toMatch(
                /= data\.aws_iam_policy_document\.[a-z_]+\.json$/,
              );
            }
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
          const writes = statement.actions.filter((action) => !isReadOnlyAction(action));
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
      const policies = asObject(local(stack.module, 'function_policies'), 'local.function_policies');
      for (const name of functionNames()) {
        const document = expression(policies[name])?.replace(/\.json$/, '');
        const granted = statements([stack.module])
          .filter((statement) => statement.document === document)
          .flatMap((statement) => statement.actions);
        expect({ name, granted: [...granted].sort() }).toEqual({
          name,
          granted: [...(EXPECTED_ACTIONS[name] ?? ['(no expectation)'])].sort(),
        });
      }
    });

    it('lets functions write only their own log group and touch only the table in DynamoDB', () => {
      for (const statement of statements([stack.module])) {
        if (statement.actions.some((action) => action.startsWith('logs:'))) {
          const name = statement.document.replace('data.aws_iam_policy_document.', '');
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
      expect(manage.map((statement) => statement.document)).toEqual(['data.aws_iam_policy_document.fanout']);
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
      const declared = Object.keys(asObject(local(stack.module, 'functions'), 'local.functions')).sort();
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
        '${aws_lambda_function.this["authorizer"].invoke_arn}',
      );
    });

    it('runs every function on nodejs22.x, arm64, with source maps', () => {
      const fn = resource(stack.module, 'aws_lambda_function', 'this');
      expect(fn.runtime).toBe('nodejs22.x');
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
      const environment = asObject(local(stack.module, 'function_environment'), 'local.function_environment');
      const keys = (name: string): string[] => Object.keys(asObject(environment[name], name)).sort();
      expect(keys('authorizer')).toEqual([
        'AUTH_AUDIENCE',
        'AUTH_ISSUER',
        'AUTH_JWKS_URL',
        'AUTH_JWT_SECRET',
      ]);
      for (const name of ['connect', 'disconnect', 'unsubscribe']) expect(keys(name)).toEqual(['TABLE_NAME']);
      expect(keys('subscribe')).toEqual(['MAX_SUBSCRIPTIONS', 'TABLE_NAME']);
      expect(keys('default')).toEqual([]);
      expect(keys('fanout')).toEqual([
        'DLQ_URL',
        'FANOUT_CONCURRENCY',
        'FANOUT_MAX_ATTEMPTS',
        'FANOUT_MAX_RETRY_MESSAGES',
        'FANOUT_PAGE_SIZE',
        'MANAGEMENT_ENDPOINT',
        'QUEUE_URL',
        'TABLE_NAME',
      ]);
      const fanout = asObject(environment.fanout, 'fanout');
      expect([fanout.QUEUE_URL, fanout.DLQ_URL]).toEqual([
        '${aws_sqs_queue.fanout.url}',
        '${aws_sqs_queue.fanout_dlq.url}',
      ]);
      expect(local(stack.module, 'management_endpoint')).toBe(
        'https://${aws_apigatewayv2_api.this.id}.execute-api.${data.aws_region.current.region}.${data.aws_partition.current.dns_suffix}/${var.stage_name}',
      );
      expect(resource(stack.module, 'aws_apigatewayv2_stage', 'this').name).toBe('${var.stage_name}');
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
      expect(route.for_each).toBe('${local.routes}');
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
        'delivery-failures',
        'events-dlq-not-empty',
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

    it('pins Terraform and the AWS provider', () => {
      for (const module of [stack.module, stack.root]) {
        const block = terraformBlock(module);
        const providers = isBlockList(block.required_providers) ? block.required_providers[0] : undefined;
        expect(providers?.aws).toEqual({ source: 'hashicorp/aws', version: '~> 6.0' });
      }
      expect(terraformBlock(stack.module).required_version).toBe('>= 1.5.7');
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
