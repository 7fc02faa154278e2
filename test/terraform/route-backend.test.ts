// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform expressions, not JS templates
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONTRACT_FILE, renderBackendContract } from '../../scripts/terraform/backend-contract.js';
import { evaluate, moduleScope, toJson } from '../../scripts/terraform/evaluate.js';
import { isBlockList, type Json, type JsonObject, oneLabelBlocks } from '../../scripts/terraform/hcl.js';
import {
  BACKEND_ROUTES,
  contractDocument,
  PROOF_HEADER,
  PROOF_PATTERN,
  requestParameters,
} from '../../shared/backend/contract.js';
import { type FunctionName, functionSpec } from '../../shared/deployment/manifest.js';
import {
  asObject,
  dataSource,
  expandBlocks,
  instances,
  loadStack,
  repoRoot,
  resource,
  type Stack,
  variable,
} from './stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await loadStack();
});

const PROOF = 'p'.repeat(40);
const HTTP = { route_backend: 'http', backend_url: 'https://backend.example.com', backend_proof: PROOF };
const ROUTE_KEYS = ['$connect', '$default', '$disconnect', 'subscribe', 'unsubscribe'];
const ROUTE_FUNCTIONS = ['connect', 'default', 'disconnect', 'subscribe', 'unsubscribe'];

/** The value of one of the module's outputs, given its inputs. */
function output(name: string, inputs: Record<string, Json> = {}): Json {
  const block = oneLabelBlocks(stack.module, 'output').find((b) => b.labels[0] === name);
  if (!block) throw new Error(`no output ${name}`);
  return value(block.body.value, inputs);
}

function value(expression: Json | undefined, inputs: Record<string, Json> = {}): Json {
  return toJson(evaluate(expression, moduleScope(stack.module, inputs)));
}

const keysOf = (expression: string, inputs: Record<string, Json> = {}): string[] =>
  Object.keys(asObject(value(expression, inputs), expression)).sort();

/** The instance keys of a resource's for_each, given the module's inputs. */
function instanceKeys(type: string, name: string, inputs: Record<string, Json>): string[] {
  return instances(moduleScope(stack.module, inputs), resource(stack.module, type, name))
    .map((instance) => instance.key ?? '')
    .sort();
}

/** Whether each validation of a variable holds, given the module's inputs. */
function validations(name: string, inputs: Record<string, Json>): Json[] {
  const declared = variable(stack.module, name).validation;
  return (isBlockList(declared) ? declared : []).map((validation) => value(validation.condition, inputs));
}

describe('the backend contract file', () => {
  it('is exactly what shared/backend/contract.ts renders (make tf-contract rewrites it)', () => {
    const committed = readFileSync(join(repoRoot, CONTRACT_FILE), 'utf8');
    expect(committed).toBe(renderBackendContract());
    const parsed = JSON.parse(committed) as JsonObject;
    expect(parsed.routes).toEqual(contractDocument().routes);
    expect(parsed.proof_pattern).toBe(PROOF_PATTERN.source);
  });

  it('is what the module reads, and the proof variable checks the same pattern', () => {
    expect(value('${local.backend_contract}')).toEqual(
      JSON.parse(readFileSync(join(repoRoot, CONTRACT_FILE), 'utf8')),
    );
    const declared = variable(stack.module, 'backend_proof').validation;
    const first = isBlockList(declared) ? declared[0] : undefined;
    expect(String(first?.condition)).toContain(`regex("${PROOF_PATTERN.source}"`);
  });
});

describe('route_backend', () => {
  it('defaults to lambda: every function, a Lambda integration and permission per route, no HTTP integration', () => {
    expect(value('${var.route_backend}')).toBe('lambda');
    expect(keysOf('${local.functions}')).toEqual(['authorizer', 'fanout', ...ROUTE_FUNCTIONS].sort());
    expect(instanceKeys('aws_apigatewayv2_integration', 'this', {})).toEqual(ROUTE_KEYS);
    expect(instanceKeys('aws_lambda_permission', 'route', {})).toEqual(ROUTE_KEYS);
    expect(instanceKeys('aws_apigatewayv2_integration', 'backend', {})).toEqual([]);
    expect(value('${local.create_backend_proof_parameter}')).toBe(false);
    expect(value('${local.backend_proof_parameter_name}')).toBeNull();
    // No proof, and nothing that would put one in a template.
    expect(value('${local.backend_request_parameters}')).toEqual({});
    expect(instanceKeys('aws_cloudwatch_metric_alarm', 'this', {})).toContain('connect-errors');
  });

  it('with http creates no route function, role, log group, alias, permission or alarm; the authorizer and the fan-out stay', () => {
    expect(keysOf('${local.functions}', HTTP)).toEqual(['authorizer', 'fanout']);
    for (const [type, name] of [
      ['aws_lambda_function', 'this'],
      ['aws_lambda_alias', 'live'],
      ['aws_iam_role', 'this'],
      ['aws_iam_role_policy', 'this'],
      ['aws_cloudwatch_log_group', 'lambda'],
    ] as const) {
      expect({ type, keys: instanceKeys(type, name, HTTP) }).toEqual({
        type,
        keys: ['authorizer', 'fanout'],
      });
    }
    expect(instanceKeys('aws_apigatewayv2_integration', 'this', HTTP)).toEqual([]);
    expect(instanceKeys('aws_lambda_permission', 'route', HTTP)).toEqual([]);
    expect(instanceKeys('aws_apigatewayv2_integration', 'backend', HTTP)).toEqual(ROUTE_KEYS);
    // Every route still exists, with the same two-way replies and the authorizer on $connect.
    expect(instanceKeys('aws_apigatewayv2_route', 'this', HTTP)).toEqual(ROUTE_KEYS);
    expect(instanceKeys('aws_apigatewayv2_route_response', 'this', HTTP)).toEqual([
      '$default',
      'subscribe',
      'unsubscribe',
    ]);
    const alarms = instanceKeys('aws_cloudwatch_metric_alarm', 'this', HTTP);
    expect(alarms).not.toContain('connect-errors');
    expect(alarms).toEqual(
      expect.arrayContaining(['authorizer-errors', 'fanout-errors', 'api-integration-errors']),
    );
  });

  it('sends each route to POST <backend_url><path> as HTTP_PROXY, over the internet or through a VPC link', () => {
    const integration = resource(stack.module, 'aws_apigatewayv2_integration', 'backend');
    expect([integration.integration_type, integration.integration_method]).toEqual(['HTTP_PROXY', 'POST']);
    const scope = moduleScope(stack.module, HTTP);
    for (const instance of instances(scope, integration)) {
      const key = instance.key as keyof typeof BACKEND_ROUTES;
      expect(toJson(evaluate(integration.integration_uri, instance.scope))).toBe(
        `https://backend.example.com${BACKEND_ROUTES[key].path}`,
      );
      expect(toJson(evaluate(integration.connection_type, instance.scope))).toBe('INTERNET');
      expect(toJson(evaluate(integration.timeout_milliseconds, instance.scope))).toBe(29000);
    }
    const linked = moduleScope(stack.module, {
      ...HTTP,
      backend_url: 'http://internal-nlb.example:8080',
      backend_vpc_link_id: 'abc123',
      backend_integration_timeout_ms: 5000,
    });
    const [first] = instances(linked, integration);
    expect(toJson(evaluate(integration.connection_type, first?.scope ?? linked))).toBe('VPC_LINK');
    expect(toJson(evaluate(integration.connection_id, first?.scope ?? linked))).toBe('abc123');
    expect(toJson(evaluate(integration.timeout_milliseconds, first?.scope ?? linked))).toBe(5000);
  });

  it("maps every route's headers exactly as the contract's requestParameters, the proof as a static value", () => {
    const parameters = asObject(value('${local.backend_request_parameters}', HTTP), 'parameters');
    expect(Object.keys(parameters).sort()).toEqual(ROUTE_KEYS);
    for (const key of ROUTE_KEYS) {
      expect({ key, parameters: parameters[key] }).toEqual({
        key,
        parameters: requestParameters(key as keyof typeof BACKEND_ROUTES, PROOF),
      });
    }
    expect(
      asObject(parameters.$disconnect, '$disconnect')[`integration.request.header.${PROOF_HEADER}`],
    ).toBe(`'${PROOF}'`);
    // The route targets whichever integration serves it.
    const route = resource(stack.module, 'aws_apigatewayv2_route', 'this');
    expect(route.target).toBe('integrations/${local.integration_ids[each.key]}');
  });

  it('keeps the proof in a SecureString parameter it writes write-only, or reads one the user keeps', () => {
    const parameter = resource(stack.module, 'aws_ssm_parameter', 'backend_proof');
    expect(parameter).toMatchObject({
      type: 'SecureString',
      value_wo: '${var.backend_proof}',
      value_wo_version: '${var.backend_proof_version}',
    });
    expect(parameter.value).toBeUndefined();
    expect(value('${local.create_backend_proof_parameter}', HTTP)).toBe(true);
    expect(value('${local.backend_proof_parameter_name}', HTTP)).toBe('/fanout/backend-proof');
    expect(variable(stack.module, 'backend_proof').sensitive).toBe(true);
    const kept = { ...HTTP, backend_proof: null, backend_proof_parameter_name: '/platform/proof' };
    expect(value('${local.create_backend_proof_parameter}', kept)).toBe(false);
    expect(value('${local.backend_proof_parameter_name}', kept)).toBe('/platform/proof');
    expect(String(value('${local.backend_proof}', kept))).toContain('data.aws_ssm_parameter.backend_proof');
  });

  it("gives the backend a policy of the route functions' own statements of functions.json, and reading its proof", () => {
    const scope = moduleScope(stack.module, HTTP);
    const document = dataSource(stack.module, 'aws_iam_policy_document', 'backend');
    const found = expandBlocks(document, 'statement', scope).map((statement) => ({
      sid: statement.sid,
      actions: statement.actions,
      resources: statement.resources,
    }));
    const expected = ['connect', 'default', 'disconnect', 'subscribe', 'unsubscribe'].flatMap((name) =>
      functionSpec(name as FunctionName)
        .policy.filter((statement) => statement.used_by === undefined)
        .map((statement) => ({
          sid: `${name}${statement.sid}`,
          actions: statement.actions,
          resources: statement.resources.map((resource) =>
            resource === 'table'
              ? '${aws_dynamodb_table.this.arn}'
              : '${aws_apigatewayv2_stage.this.execution_arn}/POST/@connections/*',
          ),
        })),
    );
    // The literal statement, then those the dynamic block makes.
    expect(found).toEqual([
      {
        sid: 'ReadGatewayProof',
        actions: ['ssm:GetParameter'],
        resources: [expect.stringMatching(/:parameter\/fanout\/backend-proof$/)],
      },
      ...expected,
    ]);
    expect(new Set(found.map((statement) => statement.sid)).size).toBe(found.length);
    expect(JSON.stringify(found)).not.toMatch(/logs:|sqs:|"\*"/);
    expect(document.count).toBe('${local.http_backend ? 1 : 0}');
    const arn = oneLabelBlocks(stack.module, 'output').find((b) => b.labels[0] === 'backend_policy_arn');
    expect(arn?.body.value).toBe('${one(aws_iam_policy.backend[*].arn)}');
  });

  it('refuses a backend without a URL or a proof, a plain-http URL without a VPC link, and a timeout above 29 s', () => {
    expect(validations('route_backend', { route_backend: 'ecs' })).toEqual([false]);
    expect(validations('backend_url', { route_backend: 'http' })).toEqual([false, true, true]);
    expect(validations('backend_url', HTTP)).toEqual([true, true, true]);
    expect(validations('backend_url', { ...HTTP, backend_url: 'https://b.example.com/' })).toEqual([
      true,
      false,
      true,
    ]);
    expect(validations('backend_url', { ...HTTP, backend_url: 'http://b.example.com' })).toEqual([
      true,
      true,
      false,
    ]);
    expect(
      validations('backend_url', {
        ...HTTP,
        backend_url: 'http://b.example.com',
        backend_vpc_link_id: 'abc1',
      }),
    ).toEqual([true, true, true]);
    expect(validations('backend_proof', { route_backend: 'http' })).toEqual([true, true, false]);
    expect(validations('backend_proof', { ...HTTP, backend_proof: "short'quote" })).toEqual([
      false,
      true,
      true,
    ]);
    expect(validations('backend_proof', { ...HTTP, backend_proof_parameter_name: '/p' })).toEqual([
      true,
      false,
      true,
    ]);
    expect(validations('backend_proof', {})).toEqual([true, true, true]);
    expect(validations('backend_integration_timeout_ms', { backend_integration_timeout_ms: 29001 })).toEqual([
      false,
    ]);
    expect(validations('backend_integration_timeout_ms', { backend_integration_timeout_ms: 29000 })).toEqual([
      true,
    ]);
  });

  it('checks the proof at apply too, when it comes from a parameter the module only reads', () => {
    const integration = resource(stack.module, 'aws_apigatewayv2_integration', 'backend');
    const lifecycle = isBlockList(integration.lifecycle) ? integration.lifecycle[0] : undefined;
    const precondition = isBlockList(lifecycle?.precondition) ? lifecycle.precondition[0] : undefined;
    expect(value(precondition?.condition, HTTP)).toBe(true);
    expect(value(precondition?.condition, { ...HTTP, backend_proof: 'short' })).toBe(false);
    expect(value(precondition?.condition, { ...HTTP, backend_proof: `'${PROOF}` })).toBe(false);
    // A parameter's value is known at apply only; Terraform checks the precondition then.
    const kept = { ...HTTP, backend_proof: null, backend_proof_parameter_name: '/platform/proof' };
    expect(String(value('${local.backend_proof}', kept))).toContain(
      'data.aws_ssm_parameter.backend_proof[0].value',
    );
  });

  it('says that a route function is not created when functions sizes one under http', () => {
    expect(
      value('${local.function_problems}', { ...HTTP, functions: { connect: { memory_size: 512 } } }),
    ).toEqual([
      'functions.connect is a route function, which route_backend = "http" does not create; size the backend instead.',
    ]);
    expect(value('${local.function_problems}', { functions: { connect: { memory_size: 512 } } })).toEqual([]);
  });

  it("outputs the backend's environment: the route functions' variables and the integration timeout", () => {
    const environment = asObject(output('backend_environment', HTTP), 'backend_environment');
    expect(environment).toMatchObject({
      TABLE_NAME: '${aws_dynamodb_table.this.name}',
      MANAGEMENT_ENDPOINT: expect.stringMatching(
        /^https:\/\/\$\{aws_apigatewayv2_api\.this\.id\}\.execute-api\..*\/live$/,
      ),
      MAX_SUBSCRIPTIONS: '50',
      FANOUT_BACKEND_INTEGRATION_TIMEOUT_MS: '29000',
    });
    expect(JSON.stringify(environment)).not.toContain(PROOF);
    expect(output('backend_environment')).toEqual({});
  });
});
