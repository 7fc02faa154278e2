import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Log, MetricSink } from './ports.js';

/** Metrics namespace unless POWERTOOLS_METRICS_NAMESPACE says otherwise. */
export const METRICS_NAMESPACE = 'fanout';

/**
 * One Logger and one Metrics per function, built at module load. Both read the usual Powertools
 * variables (POWERTOOLS_LOG_LEVEL, POWERTOOLS_METRICS_NAMESPACE, ...).
 */
export function observability(serviceName: string): { logger: Logger; metrics: Metrics } {
  const logger = new Logger({ serviceName });
  const metrics = new Metrics({
    serviceName,
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
  });
  return { logger, metrics };
}

/**
 * What every function needs to be observed: the ports (tests pass MemoryLog / MemoryMetrics), and in
 * production the Powertools instances behind them, whose middy middlewares then get attached
 * (Lambda context on every log line, EMF flush after every invocation).
 */
export interface Observability {
  logger: Log;
  metrics: MetricSink;
  powertools?: { logger: Logger; metrics: Metrics };
}

/** Production wiring: `create…Handler({ store, ...fromPowertools(observability('connect')) })`. */
export function fromPowertools(powertools: { logger: Logger; metrics: Metrics }): Observability {
  return { logger: logPort(powertools.logger), metrics: powertools.metrics, powertools };
}

/**
 * Powertools' Logger does not satisfy `Log` as declared (it takes `LogAttributes`, an index-signature
 * type, where `Log` takes `object`), so adapt it: merge the extra objects into one attribute bag,
 * keeping a bare Error under `error` as Powertools itself does.
 */
function logPort(logger: Logger): Log {
  const attributes = (extra: readonly object[]): Record<string, unknown> => {
    const merged: Record<string, unknown> = {};
    for (const item of extra) {
      if (item instanceof Error) merged.error = item;
      else Object.assign(merged, item);
    }
    return merged;
  };
  return {
    debug: (message, ...extra) => logger.debug(message, attributes(extra)),
    info: (message, ...extra) => logger.info(message, attributes(extra)),
    warn: (message, ...extra) => logger.warn(message, attributes(extra)),
    error: (message, ...extra) => logger.error(message, attributes(extra)),
  };
}
