/**
 * EventBridge event-pattern matcher for the local event bus (docs/architecture.md, "The local runtime"; AWS page "Comparison operators for use in event patterns in Amazon EventBridge").
 *
 * A pattern mirrors the event's nesting; every leaf is an array of alternatives (OR within a field),
 * every named field must match (AND across fields), fields the pattern does not name are ignored, and
 * an array in the event matches when any of its values does. `$or` splits a rule into alternatives.
 *
 * Where the documentation is silent this follows aws/event-ruler (the matcher EventBridge documents
 * its syntax against) and AWS-recorded TestEventPattern cases (localstack event_pattern_templates):
 * - leaf values of a field are its scalar values, nested arrays flattened; an object or `[]` has none,
 *   so `exists: true` does not match `[]` or `{...}` and `exists: false` does;
 * - a pattern object whose event field is missing is still evaluated, against nothing, so
 *   `{"a": {"b": [{"exists": false}]}}` matches an event without `a`;
 * - when the event holds an array of objects, all fields of one pattern object must match within the
 *   same element (Ruler's array-consistent matching).
 * Known differences from Ruler, not relied on by this project: Ruler joins nested keys with dots, so
 * `{"a.b": [1]}` also matches `{"a": {"b": 1}}` (documented as "should not be relied upon"); and
 * Ruler checks `exists: false` across all elements of an event array, here it is per element.
 */
import { compileLeafRule, type EventScalar, isArray, isPlainObject, type LeafRule } from './pattern-leaf.js';
import { PatternSyntaxError } from './pattern-text.js';

/** The error EventBridge answers PutRule / TestEventPattern with; its message uses AWS's wording. */
export class InvalidEventPatternError extends Error {
  override readonly name = 'InvalidEventPatternException';
  constructor(
    readonly reason: string,
    readonly path: string,
  ) {
    super(`Event pattern is not valid. Reason: ${reason}${path ? ` (at "${path}")` : ''}`);
  }
}

export interface CompiledPattern {
  readonly root: PatternNode;
}

interface PatternNode {
  readonly fields: readonly PatternField[];
  /** Each entry is one `$or`: at least one of its alternatives must match the same object. */
  readonly alternatives: readonly (readonly PatternNode[])[];
}

type PatternField =
  | { readonly key: string; readonly kind: 'leaf'; readonly rules: readonly LeafRule[] }
  | { readonly key: string; readonly kind: 'object'; readonly node: PatternNode };

const OR = '$or';

/**
 * Keys that stop a `$or` array from being an OR (Ruler's RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP):
 * `{"$or": [{"prefix": "a"}, {"numeric": [">", 1]}]}` is an ordinary field named `$or`.
 */
const RESERVED_IN_OR = new Set([
  'exactly',
  'equals-ignore-case',
  'prefix',
  'suffix',
  'anything-but',
  'exists',
  'wildcard',
  'numeric',
  'cidr',
  '=',
  '<',
  '<=',
  '>',
  '>=',
  'regex',
  'not-wildcard',
  'not-equals-ignore-case',
  'date-after',
  'date-on-or-after',
  'date-before',
  'date-on-or-before',
  'in-date-range',
  'ip-address-in-range',
  'ip-address-not-in-range',
]);

/** Validates and compiles a pattern given as an object or as its JSON text (as PutRule takes it). */
export function compilePattern(pattern: unknown): CompiledPattern {
  let parsed = pattern;
  if (typeof pattern === 'string') {
    try {
      parsed = JSON.parse(pattern);
    } catch (error) {
      throw new InvalidEventPatternError(error instanceof Error ? error.message : String(error), '');
    }
  }
  if (!isPlainObject(parsed)) throw new InvalidEventPatternError('Filter is not an object', '');
  return { root: compileNode(parsed, '') };
}

/** Whether `event` (the delivered envelope, or any JSON value) matches the compiled pattern. */
export function matches(compiled: CompiledPattern, event: unknown): boolean {
  return matchNode(compiled.root, isPlainObject(event) ? event : undefined);
}

function compileNode(object: Record<string, unknown>, path: string): PatternNode {
  const entries = Object.entries(object);
  if (entries.length === 0) throw new InvalidEventPatternError('Empty objects are not allowed', path);
  const fields: PatternField[] = [];
  const alternatives: PatternNode[][] = [];
  for (const [key, value] of entries) {
    const fieldPath = path ? `${path}.${key}` : key;
    if (key === OR && isOrGroup(value)) {
      alternatives.push(value.map((alternative) => compileNode(alternative, path)));
    } else if (isArray(value)) {
      fields.push({ key, kind: 'leaf', rules: compileLeaf(value, fieldPath, key === OR) });
    } else if (isPlainObject(value)) {
      fields.push({ key, kind: 'object', node: compileNode(value, fieldPath) });
    } else {
      throw new InvalidEventPatternError(`"${key}" must be an object or an array`, fieldPath);
    }
  }
  return { fields, alternatives };
}

function compileLeaf(values: readonly unknown[], path: string, isUnqualifiedOr: boolean): LeafRule[] {
  if (values.length === 0) throw new InvalidEventPatternError('Empty arrays are not allowed', path);
  try {
    return values.map(compileLeafRule);
  } catch (error) {
    if (!(error instanceof PatternSyntaxError)) throw error;
    // A `$or` that did not qualify as an OR is an ordinary field; say so, it is rarely what was meant.
    const hint = isUnqualifiedOr
      ? '; "$or" is only an OR when its array holds at least two objects whose fields are not operator' +
        ' names, otherwise it is an ordinary field name'
      : '';
    throw new InvalidEventPatternError(`${error.message}${hint}`, path);
  }
}

/** Ruler's three conditions: an array, of 2+ objects, none using a reserved keyword as a field name. */
function isOrGroup(value: unknown): value is Record<string, unknown>[] {
  return (
    isArray(value) &&
    value.length >= 2 &&
    value.every((alternative) => isPlainObject(alternative) && !usesReservedKey(alternative))
  );
}

function usesReservedKey(object: Record<string, unknown>): boolean {
  return Object.entries(object).some(([key, value]) => {
    if (RESERVED_IN_OR.has(key)) return true;
    if (isPlainObject(value)) return usesReservedKey(value);
    if (key === OR && isArray(value)) {
      return value.some((alternative) => isPlainObject(alternative) && usesReservedKey(alternative));
    }
    return false;
  });
}

/** `object` is undefined when the event has nothing at this level (missing, scalar or `[]`). */
function matchNode(node: PatternNode, object: Record<string, unknown> | undefined): boolean {
  return (
    node.fields.every((field) => matchField(field, object ? ownValue(object, field.key) : undefined)) &&
    node.alternatives.every((group) => group.some((alternative) => matchNode(alternative, object)))
  );
}

function matchField(field: PatternField, value: unknown): boolean {
  if (field.kind === 'leaf') return matchLeaf(field.rules, scalarsOf(value));
  const objects = objectsOf(value);
  if (objects.length === 0) return matchNode(field.node, undefined);
  return objects.some((object) => matchNode(field.node, object));
}

function matchLeaf(rules: readonly LeafRule[], values: readonly EventScalar[]): boolean {
  return rules.some((rule) =>
    rule.kind === 'exists' ? rule.present === values.length > 0 : values.some((value) => rule.test(value)),
  );
}

function ownValue(object: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

function scalarsOf(value: unknown): EventScalar[] {
  if (isArray(value)) return value.flatMap(scalarsOf);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return [value];
  if (typeof value === 'number' && Number.isFinite(value)) return [value];
  return [];
}

function objectsOf(value: unknown): Record<string, unknown>[] {
  if (isArray(value)) return value.flatMap(objectsOf);
  return isPlainObject(value) ? [value] : [];
}
