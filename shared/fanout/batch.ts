import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { FanoutEngine } from './engine.js';

export type FanoutBatchHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;

/**
 * An SQS batch through the engine, one record at a time in parallel (the engine's limiter bounds
 * the posts of all of them together). Records whose `handleRecord` throws are reported in
 * `batchItemFailures`, and only those: SQS redelivers them, the rest of the batch is acknowledged.
 *
 * `throwOnFullBatchFailure: false`: by default Powertools throws when every record failed, which
 * makes Lambda retry the batch as a whole. Returning every record as a failure has the same effect
 * on SQS, without a function error that hides which records failed and why.
 */
export function createBatchHandler(engine: Pick<FanoutEngine, 'handleRecord'>): FanoutBatchHandler {
  return (event, context) => {
    // A processor per invocation: it keeps per-batch state, and tests drive batches concurrently.
    const processor = new BatchProcessor(EventType.SQS);
    // The deadline is the invocation's: every record of the batch shares it.
    const deadline = context ? Date.now() + context.getRemainingTimeInMillis() : undefined;
    const handle = (record: SQSRecord) =>
      engine.handleRecord(record.body, deadline === undefined ? {} : { deadline });
    return processPartialResponse(event, handle, processor, {
      ...(context ? { context } : {}),
      throwOnFullBatchFailure: false,
    });
  };
}
