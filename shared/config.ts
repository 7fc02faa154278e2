import * as z from 'zod/mini';
import {
  type FunctionName,
  type FunctionSpec,
  functionSpec,
  type VariableOf,
  type VariableSpec,
} from './deployment/manifest.js';

/**
 * Configuration from the environment, read once at module load. Missing or malformed values fail
 * the cold start with a message naming the variable, instead of failing the first request. What a
 * function reads, and each variable's type, range and default, come from the deployment manifest
 * (functions.json), the same file Terraform builds the function's environment from.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * By name, not `instanceof`: tsx may load this module twice (as ESM and as CommonJS) in one
 * process, and each copy has its own class.
 */
export const isConfigError = (err: unknown): err is ConfigError =>
  err instanceof Error && err.name === 'ConfigError';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * A variable the Lambda runtime sets itself (AWS_REGION, the execution role's credentials), which
 * is therefore not in the manifest; missing, it fails the cold start as a manifest variable would.
 */
export function runtimeVariable(env: Env, name: 'AWS_REGION'): string {
  const value = env[name]?.trim();
  if (!value)
    throw new ConfigError(`${name} is not set: the Lambda runtime sets it, a local runner must too`);
  return value;
}
type Value = number | string | undefined;

/** A function's environment, parsed; each accessor returns what the manifest says the variable is. */
export interface FunctionEnvironment<Name extends string> {
  /** An integer setting: the variable's value, or the manifest's default when it is unset. */
  integer(name: Name): number;
  /** A string that must be set. */
  string(name: Name): string;
  /** A string that may be unset (blank counts as unset). */
  optionalString(name: Name): string | undefined;
}

const issue = (message: string) => ({ code: 'custom' as const, message, input: undefined });

/** The schema of one variable: the environment's string (or nothing) in, the typed value out. */
function variableSchema(name: string, spec: VariableSpec) {
  return z.pipe(
    z.optional(z.string()),
    z.transform((raw: string | undefined, ctx): Value => {
      // Key material is used byte for byte, as the signer uses it; blank still counts as unset.
      const text = spec.type === 'string' && spec.sensitive ? raw : raw?.trim();
      const blank = !text?.trim();
      if (spec.type === 'integer') {
        if (blank) return spec.default;
        const value = Number(text);
        if (!Number.isInteger(value) || value < spec.min || value > spec.max) {
          ctx.issues.push(issue(`${name} must be an integer from ${spec.min} to ${spec.max}, got "${text}"`));
          return z.NEVER;
        }
        return value;
      }
      if (blank) {
        if (spec.required) ctx.issues.push(issue(`${name} is required but not set`));
        return undefined;
      }
      return text;
    }),
  );
}

/** "A or B", "A, B or C". */
const either = (names: readonly string[], word: string): string =>
  names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} ${word} ${names[names.length - 1]}`;

/** One schema for a function's whole environment, built from its manifest entry. */
export function environmentSchema(spec: FunctionSpec) {
  const shape = Object.fromEntries(
    Object.entries(spec.environment).map(([name, variable]) => [name, variableSchema(name, variable)]),
  );
  return z.object(shape).check((ctx) => {
    const group = spec.exactly_one_of;
    if (group === undefined) return;
    const set = group.filter((name) => ctx.value[name] !== undefined);
    if (set.length === 0) {
      const none = group.length === 2 ? 'neither' : 'none';
      ctx.issues.push(issue(`one of ${either(group, 'or')} is required but ${none} is set`));
    } else if (set.length > 1) {
      const not = group.length === 2 ? 'not both' : 'not several';
      ctx.issues.push(issue(`set only one of ${either(group, 'and')}, ${not}`));
    }
  });
}

/**
 * Parses `env` with the schema of `spec`; throws a ConfigError naming every bad variable. The
 * accessors refuse a name the manifest does not declare or declares with another type: that is a
 * bug in the handler, which the bundle check's cold start of every function catches.
 */
export function readEnvironment(
  spec: FunctionSpec,
  env: Env,
  what = 'the function',
): FunctionEnvironment<string> {
  const result = z.safeParse(environmentSchema(spec), { ...env });
  if (!result.success) throw new ConfigError(result.error.issues.map((i) => i.message).join('; '));
  const values: Readonly<Record<string, Value>> = result.data;
  const declared = (name: string, type: VariableSpec['type']): Value => {
    const variable = spec.environment[name];
    if (variable?.type !== type) {
      throw new Error(`functions.json declares no ${type} variable ${name} for ${what}`);
    }
    return values[name];
  };
  return {
    integer: (name) => declared(name, 'integer') as number,
    string: (name) => {
      const value = declared(name, 'string');
      if (value === undefined) throw new ConfigError(`${name} is required but not set`);
      return value as string;
    },
    optionalString: (name) => declared(name, 'string') as string | undefined,
  };
}

/** The environment of one of the functions, e.g. `functionEnvironment('fanout', process.env)`. */
export function functionEnvironment<F extends FunctionName>(
  fn: F,
  env: Env,
): FunctionEnvironment<VariableOf<F>> {
  return readEnvironment(functionSpec(fn), env, `the ${fn} function`);
}
