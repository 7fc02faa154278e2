import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { FanoutEngine } from '../../../shared/fanout/engine';
import { createFanoutHandler } from '../../../shared/fanout/handler';
import { addConnection, envelopeBody, harness, sqsEvent } from './fixtures';

const context = {
  functionName: 'fanout',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:fanout',
  memoryLimitInMB: '512',
  awsRequestId: 'req-1',
  logGroupName: '/aws/lambda/fanout',
  logStreamName: 'stream',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} satisfies Context;

describe('fan-out Lambda handler', () => {
  it('returns the partial batch response and flushes the metrics as EMF', async () => {
    const h = harness();
    await addConnection(h, 'a', ['t/1']);
    const logger = new Logger({ serviceName: 'fanout' });
    const metrics = new Metrics({ serviceName: 'fanout', namespace: 'fanout-test' });
    const engine = new FanoutEngine({ ...h, metrics, now: () => Date.now() });
    const lines: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const handler = createFanoutHandler({ engine, powertools: { logger, metrics } });
      const response = await handler(sqsEvent([envelopeBody({ topics: ['t/1'] }), 'junk']), context);
      expect(response).toEqual({ batchItemFailures: [] });
    } finally {
      write.mockRestore();
    }
    expect(h.gateway.received('a')).toHaveLength(1);
    const emf = lines.map((line) => JSON.parse(line)).find((entry) => entry._aws?.CloudWatchMetrics);
    expect(emf).toMatchObject({ Delivered: 1, Malformed: 1, service: 'fanout' });
  });

  it('runs without Powertools middlewares when given only in-memory ports', async () => {
    const h = harness();
    const response = await createFanoutHandler({ engine: h.engine })(sqsEvent(['junk']), context);
    expect(response).toEqual({ batchItemFailures: [] });
    expect(h.metrics.total('Malformed')).toBe(1);
  });
});
