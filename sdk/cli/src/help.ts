import { COMMANDS, COMMON_OPTIONS, type CommandSpec, type OptionSpec } from './spec.js';

/** The help, generated from the command table (spec.ts): whatever the parser accepts is listed. */

const WIDTH = 100;

const flag = (option: OptionSpec): string =>
  option.value === undefined ? `--${option.name}` : `--${option.name} ${option.value}`;

/** `fanout publish (--topic TOPIC | --user USER)... (--data JSON | --data-file FILE) [--source S] ...` */
export function usageLine(spec: CommandSpec): string {
  const grouped = new Set([...(spec.oneOf ?? []), ...(spec.anyOf ?? [])].flat());
  const byName = (name: string) => spec.options.find((option) => option.name === name);
  const group = (names: readonly string[], repeat: boolean) => {
    const flags = names.map((name) => {
      const option = byName(name);
      return option ? flag(option) : `--${name}`;
    });
    return `(${flags.join(' | ')})${repeat ? '...' : ''}`;
  };
  const parts = [`fanout ${spec.name}`];
  if (spec.argument) {
    const { name, required, variadic } = spec.argument;
    const text = `${name}${variadic ? '...' : ''}`;
    parts.push(required ? text : `[${text}]`);
  }
  for (const names of spec.anyOf ?? []) parts.push(group(names, true));
  for (const names of spec.oneOf ?? []) parts.push(group(names, false));
  for (const option of spec.options) {
    if (grouped.has(option.name)) continue;
    const text = `${flag(option)}${option.multiple ? '...' : ''}`;
    parts.push(option.required ? text : `[${text}]`);
  }
  return wrap(parts, '  ', `${' '.repeat(spec.name.length + 10)}`);
}

/** Words laid out in lines of at most WIDTH characters. */
function wrap(words: readonly string[], first: string, rest: string): string {
  const lines: string[] = [];
  let line = first;
  for (const word of words) {
    const start = line === first || line === rest;
    if (!start && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = rest + word;
    } else line = start ? line + word : `${line} ${word}`;
  }
  lines.push(line);
  return lines.join('\n');
}

const paragraph = (text: string, indent: string): string => wrap(text.split(' '), indent, indent);

function optionLines(options: readonly OptionSpec[]): string[] {
  const column = Math.max(...options.map((option) => flag(option).length)) + 6;
  return options.map((option) => {
    const left = `    ${flag(option)}`.padEnd(column);
    const notes = [option.required ? 'required' : '', option.multiple ? 'repeatable' : '']
      .filter(Boolean)
      .join(', ');
    const text = notes ? `${option.help} [${notes}]` : option.help;
    return wrap(text.split(' '), left, ' '.repeat(column));
  });
}

/** One command's help: its usage line, what it does, its argument and every option. */
export function commandHelp(spec: CommandSpec): string {
  const lines = [usageLine(spec), '', paragraph(`${spec.summary}.`, '  ')];
  for (const text of spec.details ?? []) lines.push(paragraph(text, '  '));
  if (spec.argument) {
    const { name, variadic, required, help } = spec.argument;
    lines.push('', `    ${name}${variadic ? '...' : ''}  ${help}${required ? ' [required]' : ''}`);
  }
  lines.push('', ...optionLines([...spec.options, ...COMMON_OPTIONS]));
  for (const names of spec.oneOf ?? []) {
    lines.push(`    exactly one of ${names.map((name) => `--${name}`).join(', ')} is required`);
  }
  for (const names of spec.anyOf ?? []) {
    lines.push(`    at least one of ${names.map((name) => `--${name}`).join(', ')} is required`);
  }
  return lines.join('\n');
}

/** `fanout help`: every command with every option. */
export function fullHelp(version: string): string {
  const nameWidth = Math.max(...COMMANDS.map((spec) => spec.name.length)) + 3;
  return [
    `fanout ${version} — event-driven WebSocket fan-out`,
    '',
    'Usage: fanout COMMAND [OPTIONS]    (fanout COMMAND --help shows one command; fanout --version)',
    '',
    'Commands:',
    ...COMMANDS.map((spec) => `  ${spec.name.padEnd(nameWidth)}${spec.summary}`),
    '',
    ...COMMANDS.filter((spec) => spec.name !== 'help').flatMap((spec) => [commandHelp(spec), '']),
    'Every failure prints `fanout COMMAND: CODE: message`, with a stable CODE (unknown_option,',
    'missing_option, connect_failed, dlq_unreachable, ...): exit code 2 for a command line that cannot',
    'run as given, 1 for a command that failed.',
  ].join('\n');
}
