/**
 * The slice of Powertools' Logger and Metrics the domain uses. Powertools' classes satisfy these
 * structurally; tests pass the in-memory versions below instead of touching stdout.
 */
export interface Log {
  debug(message: string, ...extra: object[]): void;
  info(message: string, ...extra: object[]): void;
  warn(message: string, ...extra: object[]): void;
  error(message: string, ...extra: object[]): void;
}

export type MetricUnit = 'Count' | 'Milliseconds';

export interface MetricSink {
  addMetric(name: string, unit: MetricUnit, value: number): void;
}

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  extra: object[];
}

export class MemoryLog implements Log {
  readonly entries: LogEntry[] = [];
  debug(message: string, ...extra: object[]): void {
    this.entries.push({ level: 'debug', message, extra });
  }
  info(message: string, ...extra: object[]): void {
    this.entries.push({ level: 'info', message, extra });
  }
  warn(message: string, ...extra: object[]): void {
    this.entries.push({ level: 'warn', message, extra });
  }
  error(message: string, ...extra: object[]): void {
    this.entries.push({ level: 'error', message, extra });
  }
}

export class MemoryMetrics implements MetricSink {
  readonly values = new Map<string, number[]>();
  addMetric(name: string, _unit: MetricUnit, value: number): void {
    const list = this.values.get(name) ?? [];
    list.push(value);
    this.values.set(name, list);
  }
  /** Sum of every value recorded under `name` (0 when none). */
  total(name: string): number {
    return (this.values.get(name) ?? []).reduce((a, b) => a + b, 0);
  }
}
