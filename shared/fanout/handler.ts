import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy, { type MiddyfiedHandler } from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createBatchHandler } from './batch.js';
import type { FanoutEngine } from './engine.js';

export interface FanoutHandlerDeps {
  engine: Pick<FanoutEngine, 'handleRecord'>;
  /** The Powertools instances behind the engine's Log / MetricSink; absent in tests with in-memory ports. */
  powertools?: { logger: Logger; metrics: Metrics };
}

export type FanoutHandler = MiddyfiedHandler<SQSEvent, SQSBatchResponse, Error, Context>;

/**
 * The fan-out Lambda handler: the batch handler in middy, with the Lambda context on every log line
 * and the EMF metrics flushed after each invocation (after a failed one too).
 */
export function createFanoutHandler(deps: FanoutHandlerDeps): FanoutHandler {
  const handler = middy<SQSEvent, SQSBatchResponse, Error, Context>(createBatchHandler(deps.engine));
  if (deps.powertools) {
    // Never the whole batch, whatever POWERTOOLS_LOGGER_LOG_EVENT says: its records carry the events' data.
    handler.use(injectLambdaContext(deps.powertools.logger, { logEvent: false }));
    handler.use(logMetrics(deps.powertools.metrics, { captureColdStartMetric: true }));
  }
  return handler;
}
