/**
 * Evaluating Terraform expressions without Terraform, for the policy tests: what a value comes to
 * once variables, locals and functions.json are known, with every resource attribute (known only
 * after apply) kept as an `Unknown` that prints as it is written, e.g. `${aws_sqs_queue.fanout.arn}`.
 * It covers the expression language the stack uses (operators, conditionals, `for`, templates,
 * indexes and the built-in functions listed below) and throws on anything else rather than guess.
 * Like Terraform, a conditional only reports errors of the branch it takes, `&&` and `||` evaluate
 * both sides, and a `for` filter runs before the element's expressions.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { isTemplate, type Token, tokenize } from './expressions.js';
import { isObject, type Json, type JsonObject, localValues, oneLabelBlocks, type TfModule } from './hcl.js';

/** A value only apply knows (a resource attribute, or something built from one). */
export class Unknown {
  /**
   * @param template how the value prints: `${aws_x.y.arn}`, or `${aws_x.y.arn}:*` once composed
   * @param expression the traversal it is, when it is one (`aws_x.y.arn`), so it can be traversed further
   */
  constructor(
    readonly template: string,
    readonly expression?: string,
  ) {}
}

export type Value = null | boolean | number | string | Unknown | Value[] | { [key: string]: Value };
type ValueObject = { [key: string]: Value };

export class EvaluationError extends Error {
  override readonly name = 'EvaluationError';
}

/** Where references resolve. Roots not named here (resource types, `data`, `module`) are Unknown. */
export interface Scope {
  variable?(name: string): Value;
  local?(name: string): Value;
  /** `path.module`, `path.root`: also the base of relative `file()` paths. */
  path?: { module: string; root?: string };
  /** Names in scope: `each`, a dynamic block's iterator, ... */
  bindings?: Readonly<Record<string, Value>>;
}

type Node =
  | { kind: 'literal'; value: Value }
  | { kind: 'template'; parts: (string | Node)[] }
  | { kind: 'name'; name: string }
  | { kind: 'attr'; target: Node; name: string }
  | { kind: 'index'; target: Node; key: Node }
  | { kind: 'call'; name: string; args: Node[]; expand: boolean }
  | { kind: 'unary'; op: string; operand: Node }
  | { kind: 'binary'; op: string; left: Node; right: Node }
  | { kind: 'conditional'; condition: Node; then: Node; otherwise: Node }
  | { kind: 'tuple'; items: Node[] }
  | { kind: 'object'; items: { key: Node; value: Node }[] }
  | {
      kind: 'for';
      object: boolean;
      keyName?: string;
      valueName: string;
      collection: Node;
      key?: Node;
      value: Node;
      condition?: Node;
      group: boolean;
    };

const BINARY_PRECEDENCE: Record<string, number> = {
  '||': 1,
  '&&': 2,
  '==': 3,
  '!=': 3,
  '<': 4,
  '<=': 4,
  '>': 4,
  '>=': 4,
  '+': 5,
  '-': 5,
  '*': 6,
  '/': 6,
  '%': 6,
};

class Parser {
  private i = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly source: string,
  ) {}

  private peek(offset = 0): Token | undefined {
    return this.tokens[this.i + offset];
  }

  private fail(message: string): never {
    const token = this.peek();
    const at = token === undefined ? 'the end' : `"${token.value}" (offset ${token.start})`;
    throw new EvaluationError(`${message} at ${at} in ${this.source}`);
  }

  private isPunct(value: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token?.kind === 'punct' && token.value === value;
  }

  private isSep(value: string): boolean {
    const token = this.peek();
    return token?.kind === 'sep' && token.value === value;
  }

  private isKeyword(value: string): boolean {
    const token = this.peek();
    return token?.kind === 'ident' && token.value === value;
  }

  private expectPunct(value: string): void {
    if (!this.isPunct(value)) this.fail(`expected "${value}"`);
    this.i++;
  }

  /** The whole string: a template of text and interpolations, ending at the last token. */
  parseTopLevel(): Node {
    const node = this.template(() => this.i >= this.tokens.length);
    return node;
  }

  /** Text and `${...}` parts until `done()`; a `%{...}` directive is not supported. */
  private template(done: () => boolean): Node {
    const parts: (string | Node)[] = [];
    while (!done()) {
      const token = this.peek();
      if (token === undefined) this.fail('unterminated template');
      if (token.kind === 'text') {
        parts.push(token.value);
        this.i++;
      } else if (token.kind === 'sep' && token.value === '$') {
        this.i++;
        parts.push(this.expression());
        if (!this.isSep('}')) this.fail('expected "}"');
        this.i++;
      } else {
        this.fail('template directives (%{...}) are not supported');
      }
    }
    return { kind: 'template', parts };
  }

  private expression(): Node {
    const condition = this.binary(1);
    if (!this.isPunct('?')) return condition;
    this.i++;
    const then = this.expression();
    this.expectPunct(':');
    const otherwise = this.expression();
    return { kind: 'conditional', condition, then, otherwise };
  }

  private binary(minimum: number): Node {
    let left = this.unary();
    for (;;) {
      const token = this.peek();
      const precedence = token?.kind === 'punct' ? BINARY_PRECEDENCE[token.value] : undefined;
      if (token === undefined || precedence === undefined || precedence < minimum) return left;
      this.i++;
      const right = this.binary(precedence + 1);
      left = { kind: 'binary', op: token.value, left, right };
    }
  }

  private unary(): Node {
    if (this.isPunct('!') || this.isPunct('-')) {
      const op = this.peek()?.value as string;
      this.i++;
      return { kind: 'unary', op, operand: this.unary() };
    }
    return this.postfix(this.primary());
  }

  private postfix(node: Node): Node {
    for (;;) {
      if (this.isPunct('.')) {
        const next = this.peek(1);
        if (next?.kind === 'ident') {
          this.i += 2;
          node = { kind: 'attr', target: node, name: next.value };
        } else if (next?.kind === 'number') {
          this.i += 2;
          node = { kind: 'index', target: node, key: { kind: 'literal', value: Number(next.value) } };
        } else {
          this.fail('splat expressions are not supported');
        }
      } else if (this.isPunct('[')) {
        if (this.isPunct('*', 1)) this.fail('splat expressions are not supported');
        this.i++;
        const key = this.expression();
        this.expectPunct(']');
        node = { kind: 'index', target: node, key };
      } else {
        return node;
      }
    }
  }

  private primary(): Node {
    const token = this.peek();
    if (token === undefined) this.fail('expected an expression');
    if (token.kind === 'number') {
      this.i++;
      return { kind: 'literal', value: Number(token.value) };
    }
    if (token.kind === 'sep' && token.value === '"') {
      this.i++;
      const node = this.template(() => this.isSep('"'));
      this.i++;
      return node;
    }
    if (token.kind === 'sep' && token.value === '<<') {
      this.i++;
      // The lexer closes a heredoc with a separator token holding its marker.
      const node = this.template(() => {
        const next = this.peek();
        return next?.kind === 'sep' && next.value !== '$' && next.value !== '%';
      });
      this.i++;
      return node;
    }
    if (token.kind === 'ident') {
      this.i++;
      if (token.value === 'true' || token.value === 'false')
        return { kind: 'literal', value: token.value === 'true' };
      if (token.value === 'null') return { kind: 'literal', value: null };
      if (this.isPunct('(')) return this.call(token.value);
      return { kind: 'name', name: token.value };
    }
    if (token.kind === 'punct' && token.value === '(') {
      this.i++;
      const inner = this.expression();
      this.expectPunct(')');
      return inner;
    }
    if (token.kind === 'punct' && token.value === '[') return this.tuple();
    if (token.kind === 'punct' && token.value === '{') return this.object();
    return this.fail('unexpected token');
  }

  private call(name: string): Node {
    this.expectPunct('(');
    const args: Node[] = [];
    let expand = false;
    while (!this.isPunct(')')) {
      args.push(this.expression());
      if (this.isPunct('...')) {
        this.i++;
        expand = true;
      }
      if (this.isPunct(',')) this.i++;
      else if (!this.isPunct(')')) this.fail('expected "," or ")"');
    }
    this.i++;
    return { kind: 'call', name, args, expand };
  }

  private tuple(): Node {
    this.expectPunct('[');
    if (this.isKeyword('for')) return this.forExpression(false);
    const items: Node[] = [];
    while (!this.isPunct(']')) {
      items.push(this.expression());
      if (this.isPunct(',')) this.i++;
      else if (!this.isPunct(']')) this.fail('expected "," or "]"');
    }
    this.i++;
    return { kind: 'tuple', items };
  }

  private object(): Node {
    this.expectPunct('{');
    if (this.isKeyword('for')) return this.forExpression(true);
    const items: { key: Node; value: Node }[] = [];
    while (!this.isPunct('}')) {
      const token = this.peek();
      // A bare name before `=` or `:` is the key itself, not a reference.
      const bare = token?.kind === 'ident' && (this.isPunct('=', 1) || this.isPunct(':', 1));
      let key: Node;
      if (bare) {
        this.i++;
        key = { kind: 'literal', value: token.value };
      } else {
        key = this.expression();
      }
      if (this.isPunct('=') || this.isPunct(':')) this.i++;
      else this.fail('expected "=" after an object key');
      items.push({ key, value: this.expression() });
      if (this.isPunct(',')) this.i++;
    }
    this.i++;
    return { kind: 'object', items };
  }

  /** `[for v in c : expr if cond]`, `{for k, v in c : key => value... if cond}`; the opener is read. */
  private forExpression(object: boolean): Node {
    this.i++; // for
    const names: string[] = [];
    while (!this.isKeyword('in')) {
      const token = this.peek();
      if (token?.kind === 'ident') names.push(token.value);
      else if (!this.isPunct(',')) this.fail('expected the names a for expression binds');
      this.i++;
    }
    this.i++; // in
    const collection = this.expression();
    this.expectPunct(':');
    let key: Node | undefined;
    if (object) {
      key = this.expression();
      this.expectPunct('=>');
    }
    const value = this.expression();
    let group = false;
    if (this.isPunct('...')) {
      this.i++;
      group = true;
    }
    let condition: Node | undefined;
    if (this.isKeyword('if')) {
      this.i++;
      condition = this.expression();
    }
    this.expectPunct(object ? '}' : ']');
    const [first, second] = names;
    if (first === undefined || names.length > 2) this.fail('a for expression binds one or two names');
    return {
      kind: 'for',
      object,
      ...(second === undefined ? {} : { keyName: first }),
      valueName: second ?? first,
      collection,
      ...(key === undefined ? {} : { key }),
      value,
      ...(condition === undefined ? {} : { condition }),
      group,
    };
  }
}

const parsed = new Map<string, Node>();

function parse(source: string): Node {
  let node = parsed.get(source);
  if (node === undefined) {
    node = new Parser(tokenize(source), source).parseTopLevel();
    parsed.set(source, node);
  }
  return node;
}

// ------------------------------------------------------------------------------------------------
// Values
// ------------------------------------------------------------------------------------------------

const isValueObject = (value: Value): value is ValueObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Unknown);

const typeName = (value: Value): string => {
  if (value === null) return 'null';
  if (value instanceof Unknown) return `an unknown value (${value.template})`;
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
};

/** Keys in Terraform's order: lexical, as `keys()` and `for` over a map or object list them. */
const sortedKeys = (value: ValueObject): string[] => Object.keys(value).sort();

function equal(a: Value, b: Value): boolean {
  if (a instanceof Unknown || b instanceof Unknown) {
    // A resource attribute is taken to be set once applied: unknown never equals null.
    if (a === null || b === null) return false;
    throw new EvaluationError(`cannot compare ${typeName(a)} with ${typeName(b)} before apply`);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((x, i) => equal(x, b[i] ?? null))
    );
  }
  if (isValueObject(a) || isValueObject(b)) {
    if (!isValueObject(a) || !isValueObject(b)) return false;
    const keys = sortedKeys(a);
    return equal(keys, sortedKeys(b)) && keys.every((key) => equal(a[key] ?? null, b[key] ?? null));
  }
  return a === b;
}

function number(value: Value, what: string): number {
  if (typeof value === 'number') return value;
  // Terraform converts a numeric string wherever a number is expected.
  if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) return Number(value);
  throw new EvaluationError(`${what} needs a number, got ${typeName(value)}`);
}

function bool(value: Value, what: string): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new EvaluationError(`${what} needs a bool, got ${typeName(value)}`);
}

function text(value: Value, what: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new EvaluationError(`${what} needs a string, got ${typeName(value)}`);
}

function list(value: Value, what: string): Value[] {
  if (Array.isArray(value)) return value;
  throw new EvaluationError(`${what} needs a list, got ${typeName(value)}`);
}

function object(value: Value, what: string): ValueObject {
  if (isValueObject(value)) return value;
  throw new EvaluationError(`${what} needs a map or object, got ${typeName(value)}`);
}

const hasUnknown = (value: Value): boolean =>
  value instanceof Unknown ||
  (Array.isArray(value) && value.some(hasUnknown)) ||
  (isValueObject(value) && Object.values(value).some(hasUnknown));

/** Plain JSON for a value: an Unknown becomes its template, as hcl2json would print it. */
export function toJson(value: Value): Json {
  if (value instanceof Unknown) return value.template;
  if (Array.isArray(value)) return value.map(toJson);
  if (isValueObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]));
  return value;
}

function fromJson(value: unknown): Value {
  if (Array.isArray(value)) return value.map(fromJson);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromJson(v)]));
  }
  if (
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean' ||
    value === null
  ) {
    return value;
  }
  throw new EvaluationError(`not a JSON value: ${String(value)}`);
}

function sortedJson(value: Json): Json {
  if (Array.isArray(value)) return value.map(sortedJson);
  if (isObject(value)) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortedJson(value[key] ?? null)]),
    );
  }
  return value;
}

const distinct = (items: Value[]): Value[] =>
  items.filter((x, i) => items.findIndex((y) => equal(x, y)) === i);

// ------------------------------------------------------------------------------------------------
// Functions
// ------------------------------------------------------------------------------------------------

type Builtin = (args: Value[], scope: Scope) => Value;

const numbers = (args: Value[], fn: string): number[] =>
  args.map((arg, i) => number(arg, `${fn}() argument ${i + 1}`));

const BUILTINS: Record<string, Builtin> = {
  abs: ([x]) => Math.abs(number(x ?? null, 'abs()')),
  alltrue: ([xs]) => list(xs ?? null, 'alltrue()').every((x) => bool(x, 'alltrue()')),
  anytrue: ([xs]) => list(xs ?? null, 'anytrue()').some((x) => bool(x, 'anytrue()')),
  ceil: ([x]) => Math.ceil(number(x ?? null, 'ceil()')),
  coalesce: (args) => {
    const found = args.find((arg) => arg !== null && arg !== '');
    if (found === undefined) throw new EvaluationError('coalesce() found no non-null, non-empty argument');
    return found;
  },
  concat: (args) => args.flatMap((arg) => list(arg, 'concat()')),
  contains: ([xs, x]) => list(xs ?? null, 'contains()').some((item) => equal(item, x ?? null)),
  distinct: ([xs]) => distinct(list(xs ?? null, 'distinct()')),
  endswith: ([s, suffix]) => text(s ?? null, 'endswith()').endsWith(text(suffix ?? null, 'endswith()')),
  file: ([path], scope) => {
    const name = text(path ?? null, 'file()');
    const base = scope.path?.module ?? process.cwd();
    return readFileSync(isAbsolute(name) ? name : join(base, name), 'utf8');
  },
  flatten: ([xs]) => {
    const flat = (items: Value[]): Value[] =>
      items.flatMap((item) => (Array.isArray(item) ? flat(item) : [item]));
    return flat(list(xs ?? null, 'flatten()'));
  },
  floor: ([x]) => Math.floor(number(x ?? null, 'floor()')),
  join: ([separator, xs]) =>
    list(xs ?? null, 'join()')
      .map((x) => text(x, 'join()'))
      .join(text(separator ?? null, 'join()')),
  jsondecode: ([s]) => fromJson(JSON.parse(text(s ?? null, 'jsondecode()'))),
  // Terraform writes no white space and sorts object keys.
  jsonencode: ([x]) => JSON.stringify(sortedJson(toJson(x ?? null))),
  keys: ([x]) => sortedKeys(object(x ?? null, 'keys()')),
  length: ([x]) => {
    if (typeof x === 'string') return [...x].length;
    if (Array.isArray(x)) return x.length;
    return Object.keys(object(x ?? null, 'length()')).length;
  },
  lookup: ([map, key, fallback]) => {
    const found = object(map ?? null, 'lookup()')[text(key ?? null, 'lookup()')];
    if (found !== undefined) return found;
    if (fallback === undefined)
      throw new EvaluationError(`lookup() found no key "${String(key)}" and has no default`);
    return fallback;
  },
  lower: ([s]) => text(s ?? null, 'lower()').toLowerCase(),
  max: (args) => Math.max(...numbers(args, 'max')),
  merge: (args) =>
    Object.assign({}, ...args.filter((arg) => arg !== null).map((arg) => object(arg, 'merge()'))),
  min: (args) => Math.min(...numbers(args, 'min')),
  nonsensitive: ([x]) => x ?? null,
  sensitive: ([x]) => x ?? null,
  // RE2 in Terraform, RegExp here: the same for the patterns the stack writes (classes, anchors,
  // repetition, groups), which use nothing where the two differ (look-around, back references).
  regex: ([pattern, s]) => {
    const source = text(pattern ?? null, 'regex()');
    // RE2 names a group (?P<name>...), RegExp (?<name>...).
    const match = new RegExp(source.replaceAll('(?P<', '(?<')).exec(text(s ?? null, 'regex()'));
    if (match === null) throw new EvaluationError(`regex() found no match for ${JSON.stringify(source)}`);
    if (match.groups !== undefined) return { ...match.groups } as Record<string, Value>;
    return match.length > 1 ? match.slice(1).map((group) => group ?? null) : match[0];
  },
  setintersection: ([first, ...rest]) =>
    list(first ?? null, 'setintersection()').filter((x) =>
      rest.every((other) => list(other, 'setintersection()').some((y) => equal(x, y))),
    ),
  sort: ([xs]) =>
    list(xs ?? null, 'sort()')
      .map((x) => text(x, 'sort()'))
      .sort(),
  startswith: ([s, prefix]) =>
    text(s ?? null, 'startswith()').startsWith(text(prefix ?? null, 'startswith()')),
  split: ([separator, s]) => text(s ?? null, 'split()').split(text(separator ?? null, 'split()')),
  trimprefix: ([s, prefix]) => {
    const value = text(s ?? null, 'trimprefix()');
    const head = text(prefix ?? null, 'trimprefix()');
    return head !== '' && value.startsWith(head) ? value.slice(head.length) : value;
  },
  sum: ([xs]) => {
    const items = list(xs ?? null, 'sum()');
    if (items.length === 0) throw new EvaluationError('sum() of an empty list');
    return numbers(items, 'sum').reduce((total, x) => total + x, 0);
  },
  tolist: ([xs]) => list(xs ?? null, 'tolist()'),
  tomap: ([x]) => object(x ?? null, 'tomap()'),
  tonumber: ([x]) => (x === null || x === undefined ? null : number(x, 'tonumber()')),
  toset: ([xs]) => distinct(list(xs ?? null, 'toset()')),
  tostring: ([x]) =>
    x === null || x === undefined || x instanceof Unknown ? (x ?? null) : text(x, 'tostring()'),
  upper: ([s]) => text(s ?? null, 'upper()').toUpperCase(),
  values: ([x]) => {
    const map = object(x ?? null, 'values()');
    return sortedKeys(map).map((key) => map[key] ?? null);
  },
};

/** Functions whose result is an attribute-like value only apply (or the file system at apply) knows. */
const UNKNOWN_RESULT = new Set(['filebase64sha256', 'filesha256', 'timestamp', 'uuid']);

// ------------------------------------------------------------------------------------------------
// Evaluation
// ------------------------------------------------------------------------------------------------

function render(node: Node): string {
  switch (node.kind) {
    case 'literal':
      return typeof node.value === 'string' ? JSON.stringify(node.value) : String(node.value);
    case 'name':
      return node.name;
    case 'attr':
      return `${render(node.target)}.${node.name}`;
    case 'index':
      return `${render(node.target)}[${render(node.key)}]`;
    case 'call':
      return `${node.name}(${node.args.map(render).join(', ')}${node.expand ? '...' : ''})`;
    case 'template':
      return JSON.stringify(
        node.parts.map((part) => (typeof part === 'string' ? part : `\${${render(part)}}`)).join(''),
      );
    default:
      return '(...)';
  }
}

function traverseUnknown(target: Unknown, step: string): Unknown {
  if (target.expression === undefined) {
    throw new EvaluationError(`cannot traverse ${target.template}: it is built from an unknown value`);
  }
  const expression = `${target.expression}${step}`;
  return new Unknown(`\${${expression}}`, expression);
}

function index(target: Value, key: Value): Value {
  if (target instanceof Unknown) {
    const step = key instanceof Unknown ? `[${key.expression ?? key.template}]` : `[${JSON.stringify(key)}]`;
    return traverseUnknown(target, step);
  }
  if (Array.isArray(target)) {
    const found = target[number(key, 'an index')];
    if (found === undefined) throw new EvaluationError(`index ${String(key)} is out of range`);
    return found;
  }
  const map = object(target, 'an index');
  const name = text(key, 'a key');
  const found = map[name];
  if (found === undefined) throw new EvaluationError(`no key "${name}" (has ${sortedKeys(map).join(', ')})`);
  return found;
}

/** A name on its own: bound by `for`/`each`/an iterator, or the root of a resource's attributes. */
function reference(name: string, scope: Scope): Value {
  const bound = scope.bindings?.[name];
  if (bound !== undefined) return bound;
  if (name === 'var' || name === 'local' || name === 'path')
    throw new EvaluationError(`${name} alone is not a value`);
  if (name === 'count' || name === 'self') throw new EvaluationError(`${name} is not supported`);
  return new Unknown(`\${${name}}`, name);
}

function attribute(node: Extract<Node, { kind: 'attr' }>, scope: Scope): Value {
  const target = node.target;
  if (target.kind === 'name' && scope.bindings?.[target.name] === undefined) {
    if (target.name === 'var') {
      if (!scope.variable) throw new EvaluationError(`var.${node.name}: no variables in scope`);
      return scope.variable(node.name);
    }
    if (target.name === 'local') {
      if (!scope.local) throw new EvaluationError(`local.${node.name}: no locals in scope`);
      return scope.local(node.name);
    }
    if (target.name === 'path') {
      const value =
        node.name === 'module' ? scope.path?.module : node.name === 'root' ? scope.path?.root : undefined;
      if (value === undefined) throw new EvaluationError(`path.${node.name} is not known here`);
      return value;
    }
  }
  const value = evaluateNode(target, scope);
  if (value instanceof Unknown) return traverseUnknown(value, `.${node.name}`);
  const map = object(value, `.${node.name}`);
  const found = map[node.name];
  if (found === undefined) {
    throw new EvaluationError(`unsupported attribute "${node.name}" (has ${sortedKeys(map).join(', ')})`);
  }
  return found;
}

function call(node: Extract<Node, { kind: 'call' }>, scope: Scope): Value {
  if (node.name === 'try' || node.name === 'can') {
    let last: unknown;
    for (const arg of node.args) {
      try {
        const value = evaluateNode(arg, scope);
        if (node.name === 'can') return true;
        return value;
      } catch (error) {
        last = error;
      }
    }
    if (node.name === 'can') return false;
    throw last instanceof Error ? last : new EvaluationError('try() found no argument without an error');
  }
  let args = node.args.map((arg) => evaluateNode(arg, scope));
  if (node.expand) {
    const last = args.pop() ?? null;
    args = [...args, ...list(last, `the expanded argument of ${node.name}()`)];
  }
  if (UNKNOWN_RESULT.has(node.name) || (node.name === 'jsonencode' && args.some(hasUnknown))) {
    const expression = render(node);
    return new Unknown(`\${${expression}}`, expression);
  }
  const builtin = BUILTINS[node.name];
  if (builtin === undefined)
    throw new EvaluationError(`${node.name}() is not supported by the offline evaluator`);
  return builtin(args, scope);
}

function arithmetic(op: string, left: Value, right: Value): Value {
  switch (op) {
    case '==':
      return equal(left, right);
    case '!=':
      return !equal(left, right);
    case '&&':
      return bool(left, '&&') && bool(right, '&&');
    case '||':
      return bool(left, '||') || bool(right, '||');
  }
  const a = number(left, op);
  const b = number(right, op);
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return a / b;
    case '%':
      return a % b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    default:
      throw new EvaluationError(`operator ${op} is not supported`);
  }
}

function forExpression(node: Extract<Node, { kind: 'for' }>, scope: Scope): Value {
  const collection = evaluateNode(node.collection, scope);
  const entries: [Value, Value][] = Array.isArray(collection)
    ? collection.map((item, i) => [i, item])
    : sortedKeys(object(collection, 'a for expression')).map((key) => [
        key,
        (collection as ValueObject)[key] ?? null,
      ]);
  const tuple: Value[] = [];
  const result: Record<string, Value> = {};
  for (const [key, value] of entries) {
    const inner: Scope = {
      ...scope,
      bindings: {
        ...scope.bindings,
        [node.valueName]: value,
        ...(node.keyName ? { [node.keyName]: key } : {}),
      },
    };
    if (node.condition && !bool(evaluateNode(node.condition, inner), 'a for condition')) continue;
    const item = evaluateNode(node.value, inner);
    if (!node.object || node.key === undefined) {
      tuple.push(item);
      continue;
    }
    const name = text(evaluateNode(node.key, inner), 'a for key');
    if (node.group) {
      const group = result[name];
      result[name] = Array.isArray(group) ? [...group, item] : [item];
    } else if (name in result) {
      throw new EvaluationError(`duplicate key "${name}" in a for expression`);
    } else {
      result[name] = item;
    }
  }
  return node.object ? result : tuple;
}

function template(node: Extract<Node, { kind: 'template' }>, scope: Scope): Value {
  const [only] = node.parts;
  // "${x}" alone is x itself, whatever its type.
  if (node.parts.length === 1 && only !== undefined && typeof only !== 'string')
    return evaluateNode(only, scope);
  let known = '';
  let unknown = false;
  for (const part of node.parts) {
    if (typeof part === 'string') {
      known += part;
      continue;
    }
    const value = evaluateNode(part, scope);
    if (value instanceof Unknown) {
      unknown = true;
      known += value.template;
    } else {
      known += text(value, 'a template');
    }
  }
  return unknown ? new Unknown(known) : known;
}

function evaluateNode(node: Node, scope: Scope): Value {
  switch (node.kind) {
    case 'literal':
      return node.value;
    case 'template':
      return template(node, scope);
    case 'name':
      return reference(node.name, scope);
    case 'attr':
      return attribute(node, scope);
    case 'index':
      return index(evaluateNode(node.target, scope), evaluateNode(node.key, scope));
    case 'call':
      return call(node, scope);
    case 'unary': {
      const operand = evaluateNode(node.operand, scope);
      return node.op === '!' ? !bool(operand, '!') : -number(operand, 'unary -');
    }
    case 'binary':
      return arithmetic(node.op, evaluateNode(node.left, scope), evaluateNode(node.right, scope));
    case 'conditional':
      return bool(evaluateNode(node.condition, scope), 'a condition')
        ? evaluateNode(node.then, scope)
        : evaluateNode(node.otherwise, scope);
    case 'tuple':
      return node.items.map((item) => evaluateNode(item, scope));
    case 'object':
      return Object.fromEntries(
        node.items.map(({ key, value }) => [
          text(evaluateNode(key, scope), 'an object key'),
          evaluateNode(value, scope),
        ]),
      );
    case 'for':
      return forExpression(node, scope);
  }
}

/**
 * The value of a configuration value as hcl2json gives it: a template string is evaluated, a
 * plain string is itself, and lists and objects (a static `locals` object, say) are evaluated
 * item by item.
 */
export function evaluate(value: Json | undefined, scope: Scope = {}): Value {
  if (value === undefined) return null;
  if (typeof value === 'string') return isTemplate(value) ? evaluateNode(parse(value), scope) : value;
  if (Array.isArray(value)) return value.map((item) => evaluate(item, scope));
  if (isObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        text(evaluate(key, scope), 'an object key'),
        evaluate(item, scope),
      ]),
    );
  }
  return value;
}

/**
 * The scope of one module: its variables take `inputs`, else their defaults (null means the default
 * when the variable is not nullable, as Terraform does), and its locals are evaluated on demand.
 */
export function moduleScope(module: TfModule, inputs: Readonly<Record<string, Json>> = {}): Scope {
  const variables = new Map(
    oneLabelBlocks(module, 'variable').map((block) => [block.labels[0] as string, block.body]),
  );
  const locals = new Map(localValues(module).map((local) => [local.name, local.value]));
  const cache = new Map<string, Value>();
  const scope: Scope = {
    path: { module: module.dir, root: module.dir },
    variable(name) {
      const body: JsonObject | undefined = variables.get(name);
      if (body === undefined) throw new EvaluationError(`var.${name}: no variable "${name}" is declared`);
      const given = inputs[name];
      if (given !== undefined && (given !== null || body.nullable !== false)) return fromJson(given);
      if (!('default' in body))
        throw new EvaluationError(`var.${name} has no default and no value was given`);
      return fromJson(body.default);
    },
    local(name) {
      const cached = cache.get(name);
      if (cached !== undefined) return cached;
      if (!locals.has(name)) throw new EvaluationError(`local.${name}: no local value "${name}" is declared`);
      const value = evaluate(locals.get(name), scope);
      cache.set(name, value);
      return value;
    },
  };
  return scope;
}

/** A scope with more names bound (`each`, an iterator). */
export const withBindings = (scope: Scope, bindings: Readonly<Record<string, Value>>): Scope => ({
  ...scope,
  bindings: { ...scope.bindings, ...bindings },
});
