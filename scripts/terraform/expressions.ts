/**
 * Terraform expressions as @cdktf/hcl2json leaves them: every value that is not a plain literal is a
 * string holding HCL template source, e.g. `${aws_sqs_queue.fanout.arn}`, `${var.name}-fanout` or
 * `${[for s in var.list : s.arn]}`. This module lexes that source and finds what a checker needs:
 * the references (`aws_x.name.attr`, `var.x`, `module.m.out`, ...) and the function calls, with the
 * names bound by `for` expressions and template `for` directives left out.
 */

/** `text` is the literal part of a template (escapes decoded in quoted strings). */
export type TokenKind = 'ident' | 'number' | 'punct' | 'sep' | 'text';

export interface Token {
  kind: TokenKind;
  value: string;
  /** Offset of the token in the analyzed string. */
  start: number;
  end: number;
}

/** One step of a traversal: a name, `[]` for an index (`[0]`, `[each.key]`) or `[*]` for a splat. */
export type Step = string;
export const INDEX: Step = '[]';
export const SPLAT: Step = '[*]';

export interface Reference {
  /** Root name first (`aws_sqs_queue`, `var`, `module`, `data`, ...), then attributes and indexes. */
  steps: Step[];
  /** The reference as written, for messages. */
  text: string;
}

export interface Analysis {
  references: Reference[];
  /** Names of the functions called, in order, duplicates kept. */
  functions: string[];
}

const MULTI_CHAR_PUNCT = ['...', '==', '!=', '<=', '>=', '&&', '||', '=>', '::'];
const KEYWORDS = new Set(['true', 'false', 'null', 'for', 'in', 'if', 'else', 'endif', 'endfor']);

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' };

/** The escape sequence at `i` of a quoted string (`\n`, `\"`, `\u00e9`, ...) and its length. */
function decodeEscape(src: string, i: number): { text: string; length: number } {
  const kind = src[i + 1] ?? '';
  const simple = ESCAPES[kind];
  if (simple !== undefined) return { text: simple, length: 2 };
  const digits = kind === 'u' ? 4 : kind === 'U' ? 8 : 0;
  const hex = src.slice(i + 2, i + 2 + digits);
  if (digits > 0 && /^[0-9A-Fa-f]+$/.test(hex) && hex.length === digits) {
    return { text: String.fromCodePoint(Number.parseInt(hex, 16)), length: 2 + digits };
  }
  return { text: src.slice(i, i + 2), length: 2 };
}

const isIdentStart = (c: string | undefined): boolean => c !== undefined && /[A-Za-z_]/.test(c);
const isIdentPart = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9_-]/.test(c);
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/** True when the string holds an interpolation or a directive, i.e. is not a plain literal. */
export function isTemplate(value: string): boolean {
  return /(^|[^$%])[$%]\{/.test(value);
}

class Lexer {
  readonly tokens: Token[] = [];

  constructor(private readonly src: string) {}

  private push(kind: TokenKind, value: string, start: number, end: number): void {
    this.tokens.push({ kind, value, start, end });
  }

  /**
   * Template text from `i` up to `end`, or up to the closing quote when `quoted`. Returns the offset
   * after the template (after the closing quote when quoted).
   */
  template(i: number, end: number, quoted: boolean): number {
    const src = this.src;
    let text = '';
    let textStart = i;
    const flush = (at: number): void => {
      if (text !== '') this.push('text', text, textStart, at);
      text = '';
    };
    while (i < end) {
      const c = src[i];
      if (quoted && c === '"') {
        flush(i);
        return i + 1;
      }
      if (c === '\\') {
        // hcl2json decodes the escapes of a top-level template, not those of strings inside it.
        const sequence = quoted ? decodeEscape(src, i) : { text: src.slice(i, i + 2), length: 2 };
        text += sequence.text;
        i += sequence.length;
        continue;
      }
      if ((c === '$' || c === '%') && src[i + 1] === c && src[i + 2] === '{') {
        text += `${c}{`;
        i += 3; // $${ and %%{ are escapes for a literal ${ and %{
        continue;
      }
      if ((c === '$' || c === '%') && src[i + 1] === '{') {
        flush(i);
        this.push('sep', c, i, i + 2);
        i = this.expression(i + 2, end);
        this.push('sep', '}', i - 1, i);
        textStart = i;
        continue;
      }
      text += c;
      i++;
    }
    flush(end);
    return end;
  }

  /** Expression tokens from `i` to the `}` closing the interpolation; returns the offset after it. */
  expression(i: number, end: number): number {
    const src = this.src;
    let depth = 0;
    while (i < end) {
      const c = src[i] as string;
      if (/\s/.test(c) || c === '~') {
        i++;
      } else if (c === '#' || (c === '/' && src[i + 1] === '/')) {
        while (i < end && src[i] !== '\n') i++;
      } else if (c === '/' && src[i + 1] === '*') {
        const close = src.indexOf('*/', i + 2);
        i = close < 0 ? end : close + 2;
      } else if (c === '"') {
        this.push('sep', '"', i, i + 1);
        i = this.template(i + 1, end, true);
        this.push('sep', '"', i - 1, i);
      } else if (c === '<' && src[i + 1] === '<' && /^<<-?[A-Za-z_]/.test(src.slice(i, i + 4))) {
        i = this.heredoc(i, end);
      } else if (isDigit(c)) {
        const match = /^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(src.slice(i, end));
        const text = match?.[0] ?? c;
        this.push('number', text, i, i + text.length);
        i += text.length;
      } else if (isIdentStart(c)) {
        let j = i + 1;
        while (j < end && isIdentPart(src[j])) j++;
        this.push('ident', src.slice(i, j), i, j);
        i = j;
      } else if (c === '}' && depth === 0) {
        return i + 1;
      } else {
        if (c === '{') depth++;
        if (c === '}') depth--;
        const multi = MULTI_CHAR_PUNCT.find((p) => src.startsWith(p, i));
        const text = multi ?? c;
        this.push('punct', text, i, i + text.length);
        i += text.length;
      }
    }
    return end;
  }

  /** `<<EOT` / `<<-EOT` heredoc inside an expression: its body is a template. */
  private heredoc(i: number, end: number): number {
    const src = this.src;
    const header = /^<<-?([A-Za-z_][A-Za-z0-9_-]*)\r?\n/.exec(src.slice(i, end));
    if (!header) return i + 2;
    const marker = header[1] as string;
    const bodyStart = i + header[0].length;
    const closing = new RegExp(`\\n[ \\t]*${marker}[ \\t]*(?=\\r?\\n|$)`).exec(src.slice(bodyStart - 1, end));
    const bodyEnd = closing ? bodyStart - 1 + closing.index : end;
    this.push('sep', '<<', i, bodyStart);
    this.template(bodyStart, bodyEnd, false);
    this.push('sep', marker, bodyEnd, bodyEnd);
    return closing ? bodyEnd + closing[0].length : end;
  }
}

/** Tokens of every interpolation and directive in a template string (none for a plain literal). */
export function tokenize(value: string): Token[] {
  if (!isTemplate(value)) return [];
  const lexer = new Lexer(value);
  lexer.template(0, value.length, false);
  return lexer.tokens;
}

const isPunct = (token: Token | undefined, value: string): boolean =>
  token !== undefined && token.kind === 'punct' && token.value === value;

/** Index of the bracket closing the one at `open`, for `(`, `[` and `{`. */
function matchBrackets(tokens: Token[]): Map<number, number> {
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  const matches = new Map<number, number>();
  const stack: number[] = [];
  tokens.forEach((token, index) => {
    if (token.kind !== 'punct') return;
    if (token.value === '(' || token.value === '[' || token.value === '{') stack.push(index);
    const opener = pairs[token.value];
    if (opener !== undefined) {
      const top = stack[stack.length - 1];
      if (top !== undefined && tokens[top]?.value === opener) {
        stack.pop();
        matches.set(top, index);
      }
    }
  });
  return matches;
}

/**
 * References and function calls in a template string. `bound` names variables already in scope
 * (a dynamic block's iterator, say); names bound by `for` inside the string are handled here.
 */
export function analyze(value: string, bound: ReadonlySet<string> = new Set()): Analysis {
  const tokens = tokenize(value);
  const matches = matchBrackets(tokens);
  const references: Reference[] = [];
  const functions: string[] = [];
  const scopes: { names: Set<string>; until: number }[] = [];
  const skip = new Set<number>();

  const inScope = (name: string): boolean => bound.has(name) || scopes.some((scope) => scope.names.has(name));

  for (let i = 0; i < tokens.length; i++) {
    while (scopes.length > 0 && (scopes[scopes.length - 1]?.until ?? 0) < i) scopes.pop();
    const token = tokens[i] as Token;
    if (token.kind !== 'ident' || skip.has(i)) continue;
    const previous = tokens[i - 1];
    const next = tokens[i + 1];

    if (token.value === 'for' && !isPunct(previous, '.')) {
      // `[for k, v in coll : ...]`, `{for ...}` or a template `%{ for x in coll }` directive.
      const names = new Set<string>();
      let j = i + 1;
      while (j < tokens.length && !(tokens[j]?.kind === 'ident' && tokens[j]?.value === 'in')) {
        const candidate = tokens[j] as Token;
        if (candidate.kind === 'ident') names.add(candidate.value);
        skip.add(j);
        j++;
      }
      const opener =
        previous !== undefined && (isPunct(previous, '[') || isPunct(previous, '{')) ? i - 1 : -1;
      const until = opener >= 0 ? (matches.get(opener) ?? tokens.length) : tokens.length;
      scopes.push({ names, until });
      continue;
    }
    if (KEYWORDS.has(token.value)) continue;
    if (isPunct(previous, '.') || isPunct(previous, '::')) continue;
    if (isPunct(next, '::')) {
      // provider::name::function(...) (Terraform 1.8+): not a built-in, not a reference.
      let j = i + 1;
      while (isPunct(tokens[j], '::') && tokens[j + 1]?.kind === 'ident') j += 2;
      for (let k = i; k < j; k++) skip.add(k);
      continue;
    }
    if (isPunct(next, '(')) {
      functions.push(token.value);
      continue;
    }
    if (isPunct(next, '=')) continue; // an object key
    if (inScope(token.value)) continue;

    const steps: Step[] = [token.value];
    let j = i + 1;
    let last = token;
    for (;;) {
      const dot = tokens[j];
      const after = tokens[j + 1];
      if (isPunct(dot, '.') && after !== undefined && (after.kind === 'ident' || after.kind === 'number')) {
        steps.push(after.kind === 'number' ? INDEX : after.value);
        last = after;
        j += 2;
      } else if (isPunct(dot, '.') && isPunct(after, '*')) {
        steps.push(SPLAT);
        last = after as Token;
        j += 2;
      } else if (isPunct(dot, '[')) {
        const close = matches.get(j);
        if (close === undefined) break;
        steps.push(close === j + 2 && isPunct(tokens[j + 1], '*') ? SPLAT : INDEX);
        last = tokens[close] as Token;
        j = close + 1;
      } else {
        break;
      }
    }
    references.push({ steps, text: value.slice(token.start, last.end) });
  }
  return { references, functions };
}

/** The first attribute after `skip` names, past an optional index or splat: `aws_x.y[0].arn` → `arn`. */
export function attributeAfter(steps: readonly Step[], skip: number): string | undefined {
  let index = skip;
  if (steps[index] === INDEX || steps[index] === SPLAT) index++;
  const step = steps[index];
  return step === undefined || step === INDEX || step === SPLAT ? undefined : step;
}

/** `${expr}` → `expr` when the whole string is one interpolation; otherwise undefined. */
export function soleExpression(value: string): string | undefined {
  const tokens = tokenize(value);
  const first = tokens[0];
  if (first?.kind !== 'sep' || first.value !== '$' || first.start !== 0) return undefined;
  let depth = 0;
  for (const token of tokens) {
    if (token.kind !== 'sep') continue;
    if (token.value === '$' || token.value === '%') depth++;
    if (token.value === '}') depth--;
    if (depth === 0) return token.end === value.length ? value.slice(2, -1).trim() : undefined;
  }
  return undefined;
}
