/** bench/main.ts's command line. */

export const USAGE = [
  'usage: tsx bench/main.ts [--quick] [--only latency] [--help]',
  '  (no option)     every benchmark (make bench, 6 to 10 min): bench/results/latest.{json,md}, charts, README, cost',
  '  --quick         the same, smaller (make bench-quick, about 1 min)',
  '  --only latency  only the end-to-end latency scenario (make bench-latency, about 1 min; less',
  '                  with --quick): bench/results/latency.{json,md}; latest.md and the README are left alone',
].join('\n');

export interface Cli {
  mode: 'full' | 'quick';
  only?: 'latency';
  /** --help or -h: print USAGE and run nothing. */
  help?: boolean;
}

/** Reads the command line; throws on an option it does not know, with the usage. */
export function parseCli(argv: readonly string[]): Cli {
  const cli: Cli = { mode: 'full' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') cli.help = true;
    else if (arg === '--quick') cli.mode = 'quick';
    else if (arg === '--only') {
      const what = argv[++i];
      if (what !== 'latency') throw new Error(`--only takes "latency", got ${what ?? 'nothing'}\n${USAGE}`);
      cli.only = what;
    } else throw new Error(`unknown option ${arg}\n${USAGE}`);
  }
  return cli;
}
