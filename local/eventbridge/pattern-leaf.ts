/**
 * One element of a pattern leaf array (`"state": [ <element>, ... ]`) compiled to a test over one
 * event value. Semantics follow aws/event-ruler (its README, and its JsonRuleCompiler /
 * ByteMachine sources), cross-checked with AWS-recorded TestEventPattern cases (localstack
 * tests/aws/services/events/event_pattern_templates):
 * - prefix / suffix / equals-ignore-case / wildcard / cidr only ever match strings;
 * - numeric only matches JSON numbers (a string "7" is not 7), within ±5e9 (Ruler's ComparableNumber);
 * - anything-but matches any present value that is not excluded, whatever its type: `{"anything-but":
 *   {"prefix": "init"}}` matches 12 and null (AWS-recorded), and never matches a missing field.
 */
import { compileCidr, compileWildcard, PatternSyntaxError } from './pattern-text.js';

/** A leaf value as it appears in a JSON event: arrays are flattened by the caller. */
export type EventScalar = string | number | boolean | null;

export type LeafRule =
  /** `{"exists": true|false}`: about the presence of leaf values, not about any one of them. */
  | { readonly kind: 'exists'; readonly present: boolean }
  | { readonly kind: 'value'; readonly test: (value: EventScalar) => boolean };

/** Ruler converts rule numbers to fixed-width strings covering this range only; beyond it a rule is refused. */
const NUMERIC_LIMIT = 5e9;

export function compileLeafRule(element: unknown): LeafRule {
  if (element === null || typeof element === 'string' || typeof element === 'boolean') {
    return valueRule((value) => value === element);
  }
  if (typeof element === 'number') {
    // Exact numbers compare as numbers (5 matches 5.0) and never match the string "5".
    return valueRule((value) => typeof value === 'number' && value === element);
  }
  if (!isPlainObject(element)) {
    throw new PatternSyntaxError('Match value must be String, number, true, false, or null');
  }
  const [operator, operand] = singleEntry(element, 'Match expression name not found');
  switch (operator) {
    case 'prefix':
      return affixRule(operand, 'prefix', (value, affix) => value.startsWith(affix));
    case 'suffix':
      return affixRule(operand, 'suffix', (value, affix) => value.endsWith(affix));
    case 'equals-ignore-case': {
      const expected = requireString(operand, 'equals-ignore-case match pattern must be a string');
      return stringRule((value) => foldCase(value) === foldCase(expected));
    }
    case 'wildcard': {
      const regex = compileWildcard(requireString(operand, 'wildcard match pattern must be a string'));
      return stringRule((value) => regex.test(value));
    }
    case 'cidr':
      return stringRule(compileCidr(requireString(operand, 'cidr match pattern must be a string')));
    case 'numeric':
      return compileNumeric(operand);
    case 'exists':
      if (typeof operand !== 'boolean') {
        throw new PatternSyntaxError('exists match pattern must be either true or false.');
      }
      return { kind: 'exists', present: operand };
    case 'anything-but':
      return compileAnythingBut(operand);
    default:
      throw new PatternSyntaxError(`Unrecognized match type ${operator}`);
  }
}

function valueRule(test: (value: EventScalar) => boolean): LeafRule {
  return { kind: 'value', test };
}

function stringRule(test: (value: string) => boolean): LeafRule {
  return valueRule((value) => typeof value === 'string' && test(value));
}

/** `{"prefix": "x"}` or `{"prefix": {"equals-ignore-case": "x"}}` (same for suffix). */
function affixRule(
  operand: unknown,
  name: string,
  test: (value: string, affix: string) => boolean,
): LeafRule {
  if (typeof operand === 'string') return stringRule((value) => test(value, operand));
  const message = `${name} match pattern must be a string`;
  if (!isPlainObject(operand)) throw new PatternSyntaxError(message);
  const [inner, affix] = singleEntry(operand, message);
  if (inner !== 'equals-ignore-case' || typeof affix !== 'string') throw new PatternSyntaxError(message);
  const folded = foldCase(affix);
  return stringRule((value) => test(foldCase(value), folded));
}

function compileAnythingBut(operand: unknown): LeafRule {
  if (typeof operand === 'string') return excludeStrings((value) => value === operand);
  if (typeof operand === 'number') {
    const excluded = checkedNumber(operand);
    return excludeNumbers((value) => value === excluded);
  }
  if (isArray(operand)) return anythingButList(operand);
  if (!isPlainObject(operand)) {
    throw new PatternSyntaxError('Value of anything-but must be an array or single string/number value.');
  }
  const [operator, inner] = singleEntry(operand, 'Anything-But expression name not found');
  switch (operator) {
    case 'prefix': {
      const prefixes = nonEmptyStrings(inner, 'prefix/suffix match pattern must be a string');
      return excludeStrings((value) => prefixes.some((prefix) => value.startsWith(prefix)));
    }
    case 'suffix': {
      const suffixes = nonEmptyStrings(inner, 'prefix/suffix match pattern must be a string');
      return excludeStrings((value) => suffixes.some((suffix) => value.endsWith(suffix)));
    }
    case 'equals-ignore-case': {
      const message =
        'Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.';
      const folded = new Set(stringOrList(inner, message).map(foldCase));
      return excludeStrings((value) => folded.has(foldCase(value)));
    }
    case 'wildcard': {
      const regexes = stringOrList(inner, 'wildcard match pattern must be a string').map(compileWildcard);
      return excludeStrings((value) => regexes.some((regex) => regex.test(value)));
    }
    default:
      throw new PatternSyntaxError(`Unsupported anything-but pattern: ${operator}`);
  }
}

function anythingButList(values: readonly unknown[]): LeafRule {
  if (values.some((value) => typeof value !== 'string' && typeof value !== 'number')) {
    throw new PatternSyntaxError('Inside anything but list, start|null|boolean is not supported.');
  }
  const strings = values.filter((value): value is string => typeof value === 'string');
  const numbers = values.filter((value): value is number => typeof value === 'number');
  if (values.length === 0 || (strings.length > 0 && numbers.length > 0)) {
    throw new PatternSyntaxError(
      'Inside anything but list, either all values are number or string, mixed type is not supported',
    );
  }
  if (strings.length > 0) {
    const excluded = new Set(strings);
    return excludeStrings((value) => excluded.has(value));
  }
  const excluded = new Set(numbers.map(checkedNumber));
  return excludeNumbers((value) => excluded.has(value));
}

/** String exclusions cannot exclude a number, boolean or null: those values pass. */
function excludeStrings(isExcluded: (value: string) => boolean): LeafRule {
  return valueRule((value) => typeof value !== 'string' || !isExcluded(value));
}

function excludeNumbers(isExcluded: (value: number) => boolean): LeafRule {
  return valueRule((value) => typeof value !== 'number' || !isExcluded(value));
}

type Comparison = '=' | '<' | '<=' | '>' | '>=';
const COMPARISONS: readonly string[] = ['=', '<', '<=', '>', '>='];

/**
 * `[op, n]` with op one of = < <= > >=, or a range `[">"|">=", low, "<"|"<=", high]` with low < high
 * (the only two-sided form Ruler's compiler accepts).
 */
function compileNumeric(operand: unknown): LeafRule {
  if (!isArray(operand)) throw new PatternSyntaxError('Value of numeric must be an array.');
  const [first, firstValue, second, secondValue] = operand;
  const lower = comparison(first, firstValue);
  const checks: Array<(value: number) => boolean> = [compare(lower.op, lower.value)];
  if (operand.length > 2) {
    if (lower.op !== '>' && lower.op !== '>=') {
      throw new PatternSyntaxError('Too many elements in numeric expression');
    }
    if (second !== '<' && second !== '<=')
      throw new PatternSyntaxError(`Bad numeric range operator: ${String(second)}`);
    const upper = comparison(second, secondValue);
    if (operand.length > 4) throw new PatternSyntaxError('Too many terms in numeric range expression');
    if (lower.value >= upper.value) throw new PatternSyntaxError('Bottom must be less than top');
    checks.push(compare(upper.op, upper.value));
  }
  return valueRule(
    (value) =>
      typeof value === 'number' && Math.abs(value) <= NUMERIC_LIMIT && checks.every((check) => check(value)),
  );
}

function comparison(op: unknown, value: unknown): { op: Comparison; value: number } {
  if (typeof op !== 'string') throw new PatternSyntaxError(`Invalid member in numeric match: ${String(op)}`);
  if (!isComparison(op)) throw new PatternSyntaxError(`Unrecognized numeric range operator: ${op}`);
  if (typeof value !== 'number') throw new PatternSyntaxError(`Value of ${op} must be numeric`);
  return { op, value: checkedNumber(value) };
}

function isComparison(op: string): op is Comparison {
  return COMPARISONS.includes(op);
}

function compare(op: Comparison, bound: number): (value: number) => boolean {
  switch (op) {
    case '=':
      return (value) => value === bound;
    case '<':
      return (value) => value < bound;
    case '<=':
      return (value) => value <= bound;
    case '>':
      return (value) => value > bound;
    case '>=':
      return (value) => value >= bound;
  }
}

function checkedNumber(value: number): number {
  if (!Number.isFinite(value) || Math.abs(value) > NUMERIC_LIMIT) {
    throw new PatternSyntaxError('Value must be between -5.0E9 and 5.0E9, inclusive');
  }
  return value;
}

function nonEmptyStrings(operand: unknown, message: string): string[] {
  const values = stringOrList(operand, message);
  if (values.some((value) => value === '')) throw new PatternSyntaxError('Null prefix/suffix not allowed');
  return values;
}

/** A single string, or a non-empty list of strings (the list forms AWS accepts inside anything-but). */
function stringOrList(operand: unknown, message: string): string[] {
  if (typeof operand === 'string') return [operand];
  if (!isArray(operand) || operand.length === 0) throw new PatternSyntaxError(message);
  return operand.map((value) => requireString(value, message));
}

function requireString(value: unknown, message: string): string {
  if (typeof value !== 'string') throw new PatternSyntaxError(message);
  return value;
}

function singleEntry(object: Record<string, unknown>, emptyMessage: string): [string, unknown] {
  const entries = Object.entries(object);
  const [entry] = entries;
  if (entry === undefined) throw new PatternSyntaxError(emptyMessage);
  if (entries.length > 1) throw new PatternSyntaxError('Only one key allowed in match expression');
  return entry;
}

/** Case folding for the ignore-case operators; lower-casing both sides suffices for them. */
function foldCase(text: string): string {
  return text.toLowerCase();
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `Array.isArray` typed as `unknown[]`, so nothing read from JSON is silently `any`. */
export function isArray(value: unknown): value is readonly unknown[] {
  return Array.isArray(value);
}
