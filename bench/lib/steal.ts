/**
 * CPU time the hypervisor gave to other guests ("steal", the eighth field of the `cpu` line of
 * /proc/stat). On a shared virtual machine it is the part of the noise a run can measure: a figure
 * taken while much time was stolen is slower than the code.
 */
import { readFileSync } from 'node:fs';

/** Cumulative CPU ticks of every core: all of them, and the stolen ones. */
export interface CpuTicks {
  total: number;
  steal: number;
}

/** Parses the aggregate `cpu` line of /proc/stat; undefined where there is none. */
export function parseCpuTicks(stat: string): CpuTicks | undefined {
  const line = stat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  if (fields.length < 8 || fields.some((f) => !Number.isFinite(f))) return undefined;
  // guest and guest_nice (fields 9 and 10) are already counted in user and nice.
  const total = fields.slice(0, 8).reduce((sum, f) => sum + f, 0);
  return { total, steal: fields[7] ?? 0 };
}

/** This machine's ticks now; undefined off Linux. */
export function cpuTicks(): CpuTicks | undefined {
  try {
    return parseCpuTicks(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return undefined;
  }
}

/** The percentage of CPU time stolen between two readings; undefined without both or without ticks. */
export function stolenPercent(start: CpuTicks | undefined, end: CpuTicks | undefined): number | undefined {
  if (!start || !end) return undefined;
  const total = end.total - start.total;
  return total > 0 ? ((end.steal - start.steal) / total) * 100 : undefined;
}
