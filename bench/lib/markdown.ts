/** Markdown tables and marker-delimited regions of existing files. */

/** A table with its columns padded to one width, as biome formats Markdown (so `make lint` accepts it). */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const cellText = (cell: string): string => cell.replaceAll('|', '\\|').replaceAll('\n', ' ');
  const body = [headers, ...rows].map((cells) => cells.map(cellText));
  const widths = headers.map((_, i) => Math.max(3, ...body.map((cells) => [...(cells[i] ?? '')].length)));
  const pad = (cell: string, i: number): string => cell + ' '.repeat((widths[i] ?? 0) - [...cell].length);
  const line = (cells: readonly string[]): string => `| ${cells.map(pad).join(' | ')} |`;
  const [head, ...rest] = body;
  return [line(head ?? []), line(widths.map((w) => '-'.repeat(w))), ...rest.map(line)].join('\n');
}

export const markers = (name: string): { start: string; end: string } => ({
  start: `<!-- ${name}:start -->`,
  end: `<!-- ${name}:end -->`,
});

/**
 * `text` with what lies between the `name` markers replaced by `content`. Both markers must be there
 * once each, start before end: a file without them is not silently appended to.
 */
export function replaceBetween(text: string, name: string, content: string): string {
  const { start, end } = markers(name);
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (
    from < 0 ||
    to < 0 ||
    to < from ||
    text.indexOf(start, from + 1) >= 0 ||
    text.indexOf(end, to + 1) >= 0
  ) {
    throw new Error(`expected one "${start}" followed by one "${end}"`);
  }
  return `${text.slice(0, from + start.length)}\n${content.trim()}\n${text.slice(to)}`;
}

/** Numbers as the tables show them: grouped thousands, a fixed number of decimals. */
export function num(value: number | undefined, decimals = 0): string {
  if (value === undefined || Number.isNaN(value)) return '—';
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}
