/**
 * The buses, rules and targets of a local EventBridge, fixed at start-up (the local runtime reads
 * the rule pattern from the Terraform, so there is no PutRule). Patterns are compiled here, so an
 * invalid one stops the server from starting instead of silently matching nothing.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type CompiledPattern, compilePattern } from './pattern.js';

export interface SqsTargetConfig {
  readonly type: 'sqs';
  readonly queueUrl: string;
  /** A real SQS client pointed at the local SQS; or `send` below. */
  readonly sqsClient?: Pick<SQSClient, 'send'>;
  /** Sends one message body to the queue; takes precedence over `sqsClient`. */
  readonly send?: (body: string) => Promise<void>;
}

export interface RuleConfig {
  readonly name: string;
  /** The event pattern, as an object or as its JSON text. */
  readonly pattern: unknown;
  readonly targets: readonly SqsTargetConfig[];
}

export interface BusConfig {
  readonly name: string;
  readonly rules: readonly RuleConfig[];
}

export interface Target {
  readonly queueUrl: string;
  readonly send: (body: string) => Promise<void>;
}

export interface Rule {
  readonly name: string;
  readonly arn: string;
  readonly patternText: string;
  readonly pattern: CompiledPattern;
  readonly targets: readonly Target[];
}

export interface Bus {
  readonly name: string;
  readonly arn: string;
  readonly rules: readonly Rule[];
}

export interface BusScope {
  readonly region: string;
  readonly accountId: string;
}

export function buildBuses(configs: readonly BusConfig[], scope: BusScope): Map<string, Bus> {
  const buses = new Map<string, Bus>();
  for (const config of configs) {
    if (buses.has(config.name)) throw new Error(`Event bus "${config.name}" is configured twice`);
    const rules = config.rules.map((rule) => buildRule(config.name, rule, scope));
    buses.set(config.name, { name: config.name, arn: busArn(config.name, scope), rules });
  }
  return buses;
}

function buildRule(busName: string, config: RuleConfig, scope: BusScope): Rule {
  const patternText = typeof config.pattern === 'string' ? config.pattern : JSON.stringify(config.pattern);
  let pattern: CompiledPattern;
  try {
    pattern = compilePattern(config.pattern);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Rule "${config.name}" on bus "${busName}": ${reason}`);
  }
  // Rule ARNs carry the bus name except on the default bus.
  const path = busName === 'default' ? config.name : `${busName}/${config.name}`;
  return {
    name: config.name,
    arn: `arn:aws:events:${scope.region}:${scope.accountId}:rule/${path}`,
    patternText,
    pattern,
    targets: config.targets.map((target) => buildTarget(config.name, target)),
  };
}

function buildTarget(ruleName: string, config: SqsTargetConfig): Target {
  const { queueUrl, send, sqsClient } = config;
  if (send) return { queueUrl, send };
  if (sqsClient) {
    return {
      queueUrl,
      send: async (body) => {
        await sqsClient.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
      },
    };
  }
  throw new Error(`Target ${queueUrl} of rule "${ruleName}" needs an sqsClient or a send function`);
}

function busArn(name: string, scope: BusScope): string {
  return `arn:aws:events:${scope.region}:${scope.accountId}:event-bus/${name}`;
}

/** `EventBusName` is a name or an ARN; an ARN counts only in this bus's region and account. */
export function findBus(buses: Map<string, Bus>, nameOrArn: string, scope: BusScope): Bus | undefined {
  if (!nameOrArn.startsWith('arn:')) return buses.get(nameOrArn);
  const prefix = `arn:aws:events:${scope.region}:${scope.accountId}:event-bus/`;
  return nameOrArn.startsWith(prefix) ? buses.get(nameOrArn.slice(prefix.length)) : undefined;
}
