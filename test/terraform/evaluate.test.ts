// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform expressions, not JS templates
import { join } from 'node:path';
import {
  EvaluationError,
  evaluate,
  moduleScope,
  type Scope,
  toJson,
  Unknown,
  withBindings,
} from '../../scripts/terraform/evaluate.js';
import { parseFile } from '../../scripts/terraform/hcl.js';

const scope: Scope = {
  variable: (name) => ({ n: 3, s: 'x', m: { b: 2, a: 1 }, l: ['p', 'q'], none: null })[name] ?? null,
  local: (name) => (name === 'twice' ? 6 : null),
  path: { module: join(__dirname, '..', '..', 'terraform', 'modules', 'fanout') },
};
const value = (expression: string, within: Scope = scope) => toJson(evaluate(expression, within));

describe('evaluating Terraform expressions offline', () => {
  it('follows the operators, their precedence and the conditional', () => {
    expect(value('${1 + 2 * 3 - 4 / 2}')).toBe(5);
    expect(value('${-var.n + 10 % 4}')).toBe(-1);
    expect(value('${var.n >= 3 && !(var.s == "y") || false}')).toBe(true);
    expect(value('${var.n > 2 ? "big" : "small"}')).toBe('big');
    expect(value('${local.twice / 2 == var.n}')).toBe(true);
  });

  it('builds templates, and gives a lone interpolation its own type', () => {
    expect(value('${var.n}')).toBe(3);
    expect(value('n=${var.n}, s=${var.s}')).toBe('n=3, s=x');
    expect(value('${"in ${var.s} \\"q\\""}')).toBe('in x "q"');
    expect(value('${<<EOT\nhello ${var.s}\nEOT\n}')).toBe('hello x');
  });

  it('iterates maps in key order and lists in order, filtering before it evaluates', () => {
    expect(value('${[for k, v in var.m : "${k}=${v}"]}')).toEqual(['a=1', 'b=2']);
    expect(value('${{ for i, x in var.l : x => i }}')).toEqual({ p: 0, q: 1 });
    // The filter keeps the value expression from ever seeing the element it would fail on.
    expect(value('${[for k, v in var.m : v * 10 if k != "b"]}')).toEqual([10]);
    expect(value('${{ for x in ["a", "b", "a"] : x => x... }}')).toEqual({ a: ['a', 'a'], b: ['b'] });
    expect(() => value('${{ for x in ["a", "a"] : x => x }}')).toThrow(/duplicate key "a"/);
  });

  it('reports errors of the branch a conditional takes only, and of both sides of && and ||', () => {
    expect(value('${true ? 1 : var.m.missing}')).toBe(1);
    expect(() => value('${false && var.m.missing}')).toThrow(/unsupported attribute "missing"/);
    expect(value('${try(var.m.missing, "fallback")}')).toBe('fallback');
    expect(value('${[can(var.m.a), can(var.m.missing)]}')).toEqual([true, false]);
  });

  it('calls the built-in functions the stack uses', () => {
    expect(value('${merge({ a = 1 }, null, { b = 2 })}')).toEqual({ a: 1, b: 2 });
    expect(value('${merge([{ a = 1 }, { a = 2, c = 3 }]...)}')).toEqual({ a: 2, c: 3 });
    expect(value('${lookup(var.m, "z", 9) + lookup(var.m, "a")}')).toBe(10);
    expect(value('${keys(var.m)}')).toEqual(['a', 'b']);
    expect(value('${values(var.m)}')).toEqual([1, 2]);
    expect(value('${sum([for k, v in var.m : v]) + length(var.l)}')).toBe(5);
    expect(value('${join(", ", sort(concat(var.l, ["a"])))}')).toBe('a, p, q');
    expect(value('${tostring(floor(tonumber("2.5")))}')).toBe('2');
    expect(value('${coalesce(var.none, "", "z")}')).toBe('z');
    expect(value('${jsonencode({ b = [1, true], a = null })}')).toBe('{"a":null,"b":[1,true]}');
    expect(value('${setintersection(["a", "b"], ["b", "c"])}')).toEqual(['b']);
    expect(value('${jsondecode(file("${path.module}/functions.json")).fanout_queue.batch_size.min}')).toBe(1);
    expect(() => value('${lenght(var.l)}')).toThrow(/lenght\(\) is not supported/);
  });

  it('matches regex() as Terraform does: the match, its groups, or an error that can() turns false', () => {
    expect(value('${regex("^[a-z]+", "abc1")}')).toBe('abc');
    expect(value('${regex("^(a)(b)?", "ac")}')).toEqual(['a', null]);
    expect(value('${regex("^(?P<first>a)", "ab")}')).toEqual({ first: 'a' });
    expect(() => value('${regex("^z", "abc")}')).toThrow(/regex\(\) found no match for "\^z"/);
    expect(value('${can(regex("^z", "abc"))}')).toBe(false);
  });

  it('keeps resource attributes unknown, printed as written once their indexes are known', () => {
    const each = withBindings(scope, { each: { key: 'fanout', value: {} } });
    expect(value('${aws_sqs_queue.fanout.arn}')).toBe('${aws_sqs_queue.fanout.arn}');
    expect(value('${aws_cloudwatch_log_group.lambda[each.key].arn}:*', each)).toBe(
      '${aws_cloudwatch_log_group.lambda["fanout"].arn}:*',
    );
    expect(value('${data.aws_region.current.region}')).toBe('${data.aws_region.current.region}');
    expect(value('${{ a = aws_x.y.id, b = var.n }}')).toEqual({ a: '${aws_x.y.id}', b: 3 });
    // Set once applied, so never null; anything else about it waits for apply.
    expect(value('${aws_x.y.id != null}')).toBe(true);
    expect(() => value('${aws_x.y.id == "z"}')).toThrow(EvaluationError);
    expect(evaluate('${filebase64sha256("${var.s}.zip")}', scope)).toBeInstanceOf(Unknown);
  });

  it('refuses what it does not implement instead of guessing', () => {
    expect(() => value('${var.l[*]}')).toThrow(/splat/);
    expect(() => value('%{ if var.n > 1 }many%{ endif }')).toThrow(/directives/);
    expect(() => value('${count.index}')).toThrow(/count is not supported/);
    expect(() => value('${var}')).toThrow(/var alone is not a value/);
  });

  it('gives a module its inputs, else the defaults, and null means the default when not nullable', async () => {
    const source = [
      'variable "a" {',
      '  type     = number',
      '  default  = 1',
      '  nullable = false',
      '}',
      'variable "b" {',
      '  type    = string',
      '  default = "b"',
      '}',
      'variable "required" {',
      '  type = string',
      '}',
      'locals {',
      '  sum   = var.a + 1',
      '  both  = { a = local.sum, b = var.b }',
      '}',
      '',
    ].join('\n');
    const file = await parseFile('/virtual/main.tf', 'main.tf', source);
    const module = { dir: '/virtual', files: [file] };
    expect(toJson(moduleScope(module).local?.('both') ?? null)).toEqual({ a: 2, b: 'b' });
    expect(toJson(moduleScope(module, { a: 5, b: null }).local?.('both') ?? null)).toEqual({ a: 6, b: null });
    expect(toJson(moduleScope(module, { a: null }).local?.('sum') ?? null)).toBe(2);
    expect(() => moduleScope(module).variable?.('required')).toThrow(/no default and no value/);
    expect(() => moduleScope(module).local?.('nope')).toThrow(/no local value "nope"/);
  });
});
