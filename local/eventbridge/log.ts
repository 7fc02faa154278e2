/** Structured log lines of the local event bus; the dev server may route them anywhere. */
export interface LogEntry {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly [field: string]: unknown;
}

export type LogFn = (entry: LogEntry) => void;

/** Warnings and errors as JSON lines on stderr; quieter levels are dropped. */
export const stderrLog: LogFn = (entry) => {
  if (entry.level === 'warn' || entry.level === 'error') {
    process.stderr.write(`${JSON.stringify({ component: 'local-eventbridge', ...entry })}\n`);
  }
};
