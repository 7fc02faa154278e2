// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform expressions, not JS templates
import { evaluate } from '../../scripts/terraform/evaluate.js';
import {
  analyze,
  attributeAfter,
  isTemplate,
  soleExpression,
  tokenize,
} from '../../scripts/terraform/expressions.js';

const refs = (value: string, bound?: Set<string>): string[] =>
  analyze(value, bound).references.map((reference) => reference.steps.join('.'));

describe('Terraform expressions as hcl2json leaves them', () => {
  it('tells templates from plain literals', () => {
    expect(isTemplate('${var.a}')).toBe(true);
    expect(isTemplate('x-${var.a}')).toBe(true);
    expect(isTemplate('%{for x in var.l}${x}%{endfor}')).toBe(true);
    expect(isTemplate('$request.body.action')).toBe(false);
    expect(isTemplate('$${not.a.reference}')).toBe(false);
  });

  it('finds references with their attributes, indexes and splats', () => {
    expect(refs('${aws_iam_role.this[each.key].arn}')).toEqual(['aws_iam_role.this.[].arn', 'each.key']);
    expect(refs('${aws_x.y[*].arn} ${aws_x.z.*.id}')).toEqual(['aws_x.y.[*].arn', 'aws_x.z.[*].id']);
    expect(refs('${data.aws_region.current.region}')).toEqual(['data.aws_region.current.region']);
    expect(refs('${module.m["k"].out}')).toEqual(['module.m.[].out']);
  });

  it('leaves out names bound by for expressions and template directives', () => {
    expect(refs('${{ for k, v in var.x : k => upper(v) if v != "" }}')).toEqual(['var.x']);
    expect(refs('${[for s in var.list : s.arn]}')).toEqual(['var.list']);
    expect(refs('%{for p in var.l}${p},%{endfor}')).toEqual(['var.l']);
    expect(refs('${environment.value}', new Set(['environment']))).toEqual([]);
  });

  it('does not take object keys or attribute names for references', () => {
    expect(refs('${jsonencode({ a = "$context.x", b = aws_s.t.u })}')).toEqual(['aws_s.t.u']);
    expect(refs('${{ QueueName = aws_sqs_queue.q.name }}')).toEqual(['aws_sqs_queue.q.name']);
  });

  it('reads nested strings, heredocs and comments inside an interpolation', () => {
    const value = '${length(var.x) > 0 ? "${var.y}" : <<EOT\nhello ${var.z}\nEOT\n}';
    expect(refs(value)).toEqual(['var.x', 'var.y', 'var.z']);
    expect(refs('${merge(\n  # a comment naming var.hidden\n  var.a, /* var.b */ var.c)}')).toEqual([
      'var.a',
      'var.c',
    ]);
  });

  it('lists the functions called, but not provider functions', () => {
    expect(analyze('${trimprefix(each.key, "$")}-${lenght(var.a)}').functions).toEqual([
      'trimprefix',
      'lenght',
    ]);
    expect(analyze('${provider::aws::arn_parse(var.a)}').functions).toEqual([]);
  });

  it('unwraps a string that is one interpolation', () => {
    expect(soleExpression('${var.a}')).toBe('var.a');
    expect(soleExpression('${"${var.a}-x"}')).toBe('"${var.a}-x"');
    expect(soleExpression('${var.a}-${var.b}')).toBeUndefined();
    expect(soleExpression('plain')).toBeUndefined();
  });

  it('finds the attribute after a resource, past its index', () => {
    expect(attributeAfter(['aws_x', 'y', '[]', 'arn'], 2)).toBe('arn');
    expect(attributeAfter(['aws_x', 'y', 'arn'], 2)).toBe('arn');
    expect(attributeAfter(['aws_x', 'y'], 2)).toBeUndefined();
  });

  it('keeps the literal text of templates, with the escapes of inner strings decoded', () => {
    const texts = (value: string): string[] =>
      tokenize(value)
        .filter((token) => token.kind === 'text')
        .map((token) => token.value);
    expect(texts('${var.a}:*')).toEqual([':*']);
    expect(texts('${"a \\"b\\" \\u00e9"}')).toEqual(['a "b" é']);
    expect(texts('a $${literal} ${var.b}')).toEqual(['a ${literal} ']);
  });

  it('evaluates the arithmetic the policy tests need', () => {
    const values: Record<string, number> = { timeout: 60, window: 5 };
    const scope = { variable: (name: string) => values[name] ?? null };
    expect(evaluate('${6 * var.timeout + var.window}', scope)).toBe(365);
    expect(evaluate('${max(30, (var.timeout - 10) * 2) % 7}', scope)).toBe(2);
    expect(() => evaluate('${var.timeout ? 1 : 2}', scope)).toThrow();
  });
});
