import { fromPowertools, observability } from '../../shared/observability/powertools.js';
import { createDefaultHandler } from '../../shared/routes/default.js';
import { messageEvent } from '../support/events.js';
import { context } from './routes/harness.js';

/**
 * Captures what Powertools writes (JSON log lines and EMF documents on stdout, warnings and errors on
 * stderr) instead of printing it.
 */
function captureOutput(): { lines: () => Record<string, unknown>[]; restore: () => void } {
  const written: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  };
  const spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation(capture),
    jest.spyOn(process.stderr, 'write').mockImplementation(capture),
  ];
  return {
    lines: () =>
      written
        .join('')
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line)),
    restore: () => {
      for (const spy of spies) spy.mockRestore();
    },
  };
}

describe('routes wired with Powertools', () => {
  it('flush EMF metrics and stamp log lines with the Lambda context', async () => {
    const output = captureOutput();
    try {
      const handler = createDefaultHandler(fromPowertools(observability('default')));
      await handler(messageEvent({ action: 'ping', id: 'p1' }), context);
      await handler(messageEvent({ action: 'nope', id: 'p2' }), context);
    } finally {
      output.restore();
    }
    const lines = output.lines();
    const emf = lines.filter((line) => '_aws' in line);
    expect(emf.map((doc) => ('Pings' in doc ? 'Pings' : 'RouteErrors' in doc ? 'RouteErrors' : '?'))).toEqual(
      ['Pings', 'RouteErrors'],
    );
    const refused = lines.find((line) => line.message === 'request refused');
    expect(refused).toMatchObject({
      code: 'unknown_action',
      service: 'default',
      function_name: context.functionName,
      function_request_id: context.awsRequestId,
    });
  });

  it('adapt the Logger to the Log port, keeping a bare Error under "error"', () => {
    const output = captureOutput();
    try {
      const { logger } = fromPowertools(observability('adapter'));
      logger.warn('merged', { a: 1 }, { b: 2 });
      logger.error('failed', new Error('kaput'));
    } finally {
      output.restore();
    }
    const [merged, failed] = output.lines();
    expect(merged).toMatchObject({ level: 'WARN', message: 'merged', a: 1, b: 2 });
    expect(failed).toMatchObject({ level: 'ERROR', message: 'failed', error: { message: 'kaput' } });
  });
});
