import { en } from 'zod/locales';
import * as z from 'zod/mini';
import manifestJson from '../../terraform/modules/fanout/functions.json';

/**
 * The deployment manifest, `terraform/modules/fanout/functions.json`: each function's description,
 * memory, timeout, environment and IAM statements, and the fan-out queue's consumer settings.
 * Terraform reads the same file with `jsondecode(file(...))`; the handlers, the local runtime, the
 * bundle check and the policy tests read it through this module (docs/architecture.md, "The
 * deployment manifest"). It is checked once, at import (or, for the function bundles, by their build):
 * a malformed manifest fails the build and every test, rather than deploying half a contract.
 */

/** What the module wires into an environment variable (`"from"`): Terraform's `local.wired` keys. */
export const WIRED_SOURCES = [
  'table_name',
  'fanout_queue_url',
  'fanout_dlq_url',
  'management_endpoint',
  'auth_jwt_secret',
  'auth_jwt_secret_parameter',
  'auth_jwt_secret_version',
  'auth_jwks_url',
  'auth_issuer',
  'auth_audience',
] as const;
export type WiredSource = (typeof WIRED_SOURCES)[number];

/** What a statement's `"resources"` may name: Terraform's `local.policy_resources` keys. */
export const POLICY_RESOURCES = [
  'own_log_group',
  'table',
  'fanout_queue',
  'fanout_dlq',
  'post_to_connections',
  'jwt_secret_parameter',
] as const;
export type PolicyResource = (typeof POLICY_RESOURCES)[number];

/** The terms the visibility timeout is a weighted sum of: Terraform's `local.visibility_terms` keys. */
export const VISIBILITY_TERMS = ['fanout_timeout', 'batching_window_seconds'] as const;
export type VisibilityTerm = (typeof VISIBILITY_TERMS)[number];

/** AWS Lambda's limits ("Lambda quotas"): memory 128 MB to 10,240 MB, timeout up to 900 seconds. */
const MEMORY_MB = { min: 128, max: 10_240 };
const TIMEOUT_SECONDS = { min: 1, max: 900 };

/**
 * Who uses a statement's actions with the function's role when its code does not: the Lambda service
 * (writing the function's logs) or the event source mapping (polling the queue for it). A statement
 * without `used_by` is called by the function's own code, and only those actions are, which the
 * local runtime's IAM guard enforces (local/iam/guard.ts).
 */
export const STATEMENT_USERS = ['lambda', 'event_source_mapping'] as const;

/**
 * The manifest's schema, built when first asked for: the function bundles never ask (their build
 * checked the manifest, see `manifest` below), so their cold start builds none of it.
 */
function buildSchemas() {
  const description = z.string().check(z.minLength(1));
  const wholeNumber = z.int();

  /** A number with a default and an allowed range, e.g. `{ "min": 1, "max": 1000, "default": 32 }`. */
  const bounded = {
    min: wholeNumber,
    max: wholeNumber,
    default: wholeNumber,
    description,
  };
  const inRange = (spec: { min: number; max: number; default: number }): boolean =>
    spec.min <= spec.default && spec.default <= spec.max;
  const RANGE_MESSAGE = 'needs min <= default <= max';

  /** A value the module user may override (Terraform's `settings`), with its default. */
  const IntegerSetting = z
    .strictObject({ type: z.literal('integer'), ...bounded })
    .check(z.refine(inRange, { message: RANGE_MESSAGE }));

  /** A value the module wires in: a resource's name or URL, or one of the authentication inputs. */
  const WiredVariable = z.strictObject({
    type: z.literal('string'),
    from: z.enum(WIRED_SOURCES),
    /** The function refuses to start without it. */
    required: z.optional(z.boolean()),
    /** Key material: used byte for byte (never trimmed) and kept out of messages. */
    sensitive: z.optional(z.boolean()),
    description,
  });

  const Variable = z.discriminatedUnion('type', [IntegerSetting, WiredVariable]);

  const Statement = z.strictObject({
    sid: z.string().check(z.regex(/^[A-Za-z0-9]+$/)),
    actions: z.array(z.string().check(z.regex(/^[a-z0-9-]+:[A-Za-z]+$/))).check(z.minLength(1)),
    resources: z.array(z.enum(POLICY_RESOURCES)).check(z.minLength(1)),
    used_by: z.optional(z.enum(STATEMENT_USERS)),
  });

  const FunctionSpec = z
    .strictObject({
      description,
      memory_size: wholeNumber.check(z.gte(MEMORY_MB.min), z.lte(MEMORY_MB.max)),
      timeout: wholeNumber.check(z.gte(TIMEOUT_SECONDS.min), z.lte(TIMEOUT_SECONDS.max)),
      environment: z.record(z.string().check(z.regex(/^[A-Z][A-Z0-9_]*$/)), Variable),
      /** Exactly one of these variables must be set (the authorizer's secret or key set). */
      exactly_one_of: z.optional(z.array(z.string()).check(z.minLength(2))),
      policy: z.array(Statement).check(z.minLength(1)),
    })
    .check((ctx) => {
      for (const name of ctx.value.exactly_one_of ?? []) {
        const variable = ctx.value.environment[name];
        if (variable === undefined || variable.type !== 'string' || variable.required) {
          ctx.issues.push({
            code: 'custom',
            message: `exactly_one_of names ${name}, which is not an optional string variable of the function`,
            input: ctx.value,
            path: ['exactly_one_of'],
          });
        }
      }
    });

  const QueueSetting = z.strictObject(bounded).check(z.refine(inRange, { message: RANGE_MESSAGE }));

  const ManifestSchema = z
    .strictObject({
      $comment: z.optional(z.string()),
      /**
       * The Lambda runtime every function runs on (`nodejs22.x`): Terraform deploys it, the build
       * targets its Node version (scripts/build/target.mjs), the local runtime reports it.
       */
      runtime: z.string().check(z.regex(/^nodejs[0-9]+\.x$/)),
      functions: z.record(z.string().check(z.regex(/^[a-z]+$/)), FunctionSpec),
      fanout_queue: z.strictObject({
        batch_size: QueueSetting,
        batching_window_seconds: QueueSetting,
        maximum_concurrency: QueueSetting,
        max_receive_count: QueueSetting,
        max_message_size: QueueSetting,
        visibility_timeout_seconds: z.strictObject({
          description,
          sum_of: z.partialRecord(z.enum(VISIBILITY_TERMS), z.number().check(z.gte(0))),
        }),
      }),
    })
    .check((ctx) => {
      // Terraform's `settings` map sets a variable for every function that reads it, so every function
      // must read it the same way.
      const seen = new Map<string, { fn: string; spec: string }>();
      for (const [fn, spec] of Object.entries(ctx.value.functions)) {
        for (const [name, variable] of Object.entries(spec.environment)) {
          if (variable.type !== 'integer') continue;
          const { description: _ignored, ...shape } = variable;
          const text = JSON.stringify(shape);
          const first = seen.get(name);
          if (first === undefined) seen.set(name, { fn, spec: text });
          else if (first.spec !== text) {
            ctx.issues.push({
              code: 'custom',
              message: `${name} is a setting of ${first.fn} and ${fn} with different types, ranges or defaults`,
              input: ctx.value,
              path: ['functions', fn, 'environment', name],
            });
          }
        }
      }
    });
  return { ManifestSchema, FunctionSpec, Variable, IntegerSetting };
}

let schemas: ReturnType<typeof buildSchemas> | undefined;
const manifestSchemas = (): ReturnType<typeof buildSchemas> => {
  schemas ??= buildSchemas();
  return schemas;
};

type Schemas = ReturnType<typeof buildSchemas>;

export type Manifest = z.infer<Schemas['ManifestSchema']>;
export type FunctionSpec = z.infer<Schemas['FunctionSpec']>;
export type VariableSpec = z.infer<Schemas['Variable']>;
export type IntegerSettingSpec = z.infer<Schemas['IntegerSetting']>;

// English messages, as @fanout/protocol's check() gives them. Not check() itself: the local runtime
// loads this file through tsx as CommonJS, where the workspace package resolves to its unbuilt dist/.
const english = (): ReturnType<typeof en> => en();

/** The manifest checked against its schema; throws an Error listing every problem, `path: message`. */
export function parseManifest(value: unknown): Manifest {
  const result = z.safeParse(manifestSchemas().ManifestSchema, value, { error: english().localeError });
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  throw new Error(`functions.json is malformed:\n  ${problems.join('\n  ')}`);
}

/**
 * `true` in the function bundles only (scripts/build.mjs defines it), whose build checks the manifest
 * with `parseManifest` before bundling: the JSON baked into a bundle is the one that was checked, so
 * checking it again on every cold start would only cost the start its time. Everywhere else (tests,
 * the local runtime, the Terraform tools) the manifest is checked here, at import.
 */
declare const FANOUT_MANIFEST_CHECKED_AT_BUILD: boolean | undefined;

export const manifest: Manifest =
  typeof FANOUT_MANIFEST_CHECKED_AT_BUILD !== 'undefined' && FANOUT_MANIFEST_CHECKED_AT_BUILD
    ? (manifestJson as Manifest)
    : parseManifest(manifestJson);

/** The functions, typed from the JSON itself, so that a misspelt name fails the type check. */
export type FunctionName = keyof typeof manifestJson.functions;
/** The environment variables a function reads, likewise typed from the JSON. */
export type VariableOf<F extends FunctionName> = keyof (typeof manifestJson.functions)[F]['environment'] &
  string;

export const FUNCTION_NAMES: readonly FunctionName[] = Object.keys(
  manifest.functions,
).sort() as FunctionName[];

export const isFunctionName = (name: string): name is FunctionName =>
  (FUNCTION_NAMES as readonly string[]).includes(name);

export function functionSpec(fn: FunctionName): FunctionSpec {
  const spec = manifest.functions[fn];
  if (spec === undefined) throw new Error(`functions.json has no function "${fn}"`);
  return spec;
}

/** An integer setting's range and default, e.g. for options that a function also takes in code. */
export function integerSetting<F extends FunctionName>(fn: F, name: VariableOf<F>): IntegerSettingSpec {
  const variable = functionSpec(fn).environment[name];
  if (variable?.type !== 'integer') throw new Error(`functions.json: ${fn} has no integer setting ${name}`);
  return variable;
}

/**
 * The fan-out queue's visibility timeout: the manifest's weighted sum of the terms. Terraform adds
 * up the same weights (`local.fanout_queue_visibility_timeout`); the formula itself, 6 × the
 * function timeout + the batching window, is written only in functions.json.
 */
export function visibilityTimeoutSeconds(terms: Readonly<Record<VisibilityTerm, number>>): number {
  const weights = manifest.fanout_queue.visibility_timeout_seconds.sum_of;
  return VISIBILITY_TERMS.reduce((total, term) => total + (weights[term] ?? 0) * terms[term], 0);
}

/** The actions a function's own code calls: those of its statements without `used_by`, sorted. */
export function codeActions(fn: FunctionName): string[] {
  const actions = functionSpec(fn)
    .policy.filter((statement) => statement.used_by === undefined)
    .flatMap((statement) => statement.actions);
  return [...new Set(actions)].sort();
}
