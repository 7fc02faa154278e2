import { parseCpuTicks, stolenPercent } from '../../bench/lib/steal';

const stat = (steal: number, user = 1000): string =>
  `cpu  ${user} 10 200 5000 20 0 30 ${steal} 40 0\ncpu0 1 2 3 4 5 6 7 8 9 0\nintr 1 2\n`;

describe('the CPU time stolen during a run', () => {
  it('reads the aggregate cpu line, counting guest time once (it is inside user)', () => {
    expect(parseCpuTicks(stat(50))).toEqual({ total: 1000 + 10 + 200 + 5000 + 20 + 0 + 30 + 50, steal: 50 });
  });

  it('is the stolen share of all the ticks between two readings, in percent', () => {
    const start = parseCpuTicks(stat(50));
    const end = parseCpuTicks(stat(150, 1900));
    // 900 more user ticks and 100 more stolen: 100 of 1,000.
    expect(stolenPercent(start, end)).toBeCloseTo(10, 10);
  });

  it('is unknown without a cpu line, with a short or garbled one, or when no time passed', () => {
    expect(parseCpuTicks('intr 1 2\n')).toBeUndefined();
    expect(parseCpuTicks('cpu  1 2 3\n')).toBeUndefined();
    expect(parseCpuTicks('cpu  1 2 3 x 5 6 7 8\n')).toBeUndefined();
    const same = parseCpuTicks(stat(50));
    expect(stolenPercent(same, same)).toBeUndefined();
    expect(stolenPercent(undefined, same)).toBeUndefined();
  });
});
