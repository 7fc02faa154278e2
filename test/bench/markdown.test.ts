import { num, replaceBetween, table } from '../../bench/lib/markdown';

describe('benchmark Markdown', () => {
  it('renders a table with escaped pipes and columns padded to one width', () => {
    expect(table(['a', 'bb'], [['1', 'x|y']])).toBe('| a   | bb   |\n| --- | ---- |\n| 1   | x\\|y |');
  });

  it('replaces what lies between markers and keeps the rest', () => {
    const text = 'before\n<!-- r:start -->\nold\n<!-- r:end -->\nafter\n';
    expect(replaceBetween(text, 'r', 'new')).toBe('before\n<!-- r:start -->\nnew\n<!-- r:end -->\nafter\n');
  });

  it('refuses a file whose markers are missing, doubled or out of order', () => {
    expect(() => replaceBetween('no markers', 'r', 'x')).toThrow(/expected one/);
    expect(() => replaceBetween('<!-- r:end --><!-- r:start -->', 'r', 'x')).toThrow(/expected one/);
    expect(() => replaceBetween('<!-- r:start --><!-- r:start --><!-- r:end -->', 'r', 'x')).toThrow(
      /expected one/,
    );
  });

  it('formats numbers with grouped thousands, and a dash for none', () => {
    expect(num(12345.678, 1)).toBe('12,345.7');
    expect(num(undefined)).toBe('—');
    expect(num(Number.NaN)).toBe('—');
  });
});
