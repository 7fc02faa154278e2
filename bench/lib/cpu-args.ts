/** The command line of bench/cpu.ts (`make bench-cpu`). */
import { resolve } from 'node:path';

export interface Contender {
  label: string;
  system: 'fanout' | 'sample';
  bundle?: string;
}

export interface CpuArgs {
  n: number;
  runs: number;
  contenders: Contender[];
}

/** The command line, checked: a bad value names itself instead of running ten minutes for nothing. */
export function parseCpuArgs(argv: readonly string[], root: string): CpuArgs {
  let n = 10_000;
  let runs = 3;
  let sample = false;
  const bundles: Contender[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    const count = (name: string, text: string): number => {
      const parsed = Number(text);
      if (!Number.isInteger(parsed) || parsed < 1)
        throw new Error(`${name} must be a positive integer, got ${text}`);
      return parsed;
    };
    if (arg === '--n') n = count('--n', value());
    else if (arg === '--runs') runs = count('--runs', value());
    else if (arg === '--sample') sample = true;
    else if (arg === '--bundle') {
      const spec = value();
      const at = spec.indexOf('=');
      if (at < 1 || at === spec.length - 1) throw new Error(`--bundle takes label=path, got ${spec}`);
      bundles.push({ label: spec.slice(0, at), system: 'fanout', bundle: resolve(root, spec.slice(at + 1)) });
    } else throw new Error(`unknown argument ${arg}`);
  }
  const contenders = bundles.length > 0 ? bundles : [{ label: 'fanout', system: 'fanout' as const }];
  if (sample) contenders.push({ label: 'sample', system: 'sample' });
  return { n, runs, contenders };
}
