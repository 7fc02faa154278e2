import { parseCpuArgs } from '../../bench/lib/cpu-args';

describe('the command line of make bench-cpu', () => {
  it('runs the built bundle three times at N=10,000 when given nothing', () => {
    expect(parseCpuArgs([], '/repo')).toEqual({
      n: 10_000,
      runs: 3,
      contenders: [{ label: 'fanout', system: 'fanout' }],
    });
  });

  it('takes builds to compare by label, resolved from the repository, and the sample after them', () => {
    const args = parseCpuArgs(
      [
        '--n',
        '2000',
        '--runs',
        '5',
        '--bundle',
        'before=/tmp/b/index.mjs',
        '--bundle',
        'after=dist/fanout/index.mjs',
        '--sample',
      ],
      '/repo',
    );
    expect(args).toEqual({
      n: 2000,
      runs: 5,
      contenders: [
        { label: 'before', system: 'fanout', bundle: '/tmp/b/index.mjs' },
        { label: 'after', system: 'fanout', bundle: '/repo/dist/fanout/index.mjs' },
        { label: 'sample', system: 'sample' },
      ],
    });
  });

  it.each([
    [['--n', '0'], '--n must be a positive integer, got 0'],
    [['--runs', '1.5'], '--runs must be a positive integer, got 1.5'],
    [['--runs'], '--runs needs a value'],
    [['--bundle', 'no-label'], '--bundle takes label=path, got no-label'],
    [['--bundle', 'x='], '--bundle takes label=path, got x='],
    [['--fast'], 'unknown argument --fast'],
  ])('refuses %j: %s', (argv, message) => {
    expect(() => parseCpuArgs(argv, '/repo')).toThrow(message);
  });
});
