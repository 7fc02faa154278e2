import { parseCli, USAGE } from '../../bench/lib/cli';

describe("the benchmark's command line", () => {
  it('runs every benchmark in full when given no option', () => {
    expect(parseCli([])).toEqual({ mode: 'full' });
  });

  it('runs only the latency scenario with --only latency, quick or full', () => {
    expect(parseCli(['--only', 'latency'])).toEqual({ mode: 'full', only: 'latency' });
    expect(parseCli(['--quick', '--only', 'latency'])).toEqual({ mode: 'quick', only: 'latency' });
  });

  it('asks for the usage with --help or -h', () => {
    expect(parseCli(['--help']).help).toBe(true);
    expect(parseCli(['-h']).help).toBe(true);
    expect(USAGE).toContain('--only latency');
  });

  it('refuses --only without a scenario it knows, naming what it got', () => {
    expect(() => parseCli(['--only'])).toThrow('--only takes "latency", got nothing');
    expect(() => parseCli(['--only', 'delivery'])).toThrow('got delivery');
  });

  it('refuses an option it does not know, with the usage', () => {
    expect(() => parseCli(['--fast'])).toThrow(/unknown option --fast\nusage:/);
  });
});
