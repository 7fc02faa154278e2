import { Worker } from 'node:worker_threads';

/**
 * A stand-in's server run in a `worker_threads` Worker of this process (`eval: true`), so that its
 * work does not hold the event loop of the gateway beside it: every `@connections` post in flight
 * waits for that loop, and a DynamoDB Query of a thousand rows is one long task for dynalite.
 *
 * The worker's source speaks a small protocol on its parent port: it posts
 * `{ type: 'listening', port }` once its server listens, or `{ type: 'error', error }` if it cannot
 * start; on `{ type: 'stop' }` it closes its server and posts `{ type: 'stopped' }`.
 */
export interface WorkerServer {
  port: number;
  /** Closes the server gracefully, then ends the thread. Idempotent. */
  stop(): Promise<void>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * Starts `source` in a Worker with `workerData`; resolves once it listens. `name` is for errors.
 * An error the worker throws after that goes to `reportError` (by default, to stderr): the
 * thread is gone, and the calls to its server fail from then on.
 */
export async function startWorkerServer(
  name: string,
  source: string,
  workerData: Record<string, unknown>,
  reportError: (error: Error) => void = (error) => {
    process.stderr.write(`${name} worker failed: ${error.stack ?? error}\n`);
  },
): Promise<WorkerServer> {
  const worker = new Worker(source, { eval: true, workerData });
  const exited = new Promise<number>((resolveExit) => worker.once('exit', resolveExit));

  const port = await new Promise<number>((resolveStart, rejectStart) => {
    const onMessage = (message: unknown): void => {
      if (!isRecord(message)) return;
      if (message.type === 'listening' && typeof message.port === 'number') {
        cleanup();
        resolveStart(message.port);
      } else if (message.type === 'error') {
        cleanup();
        rejectStart(new Error(`${name} failed to start: ${String(message.error)}`));
        void worker.terminate();
      }
    };
    const onError = (error: Error): void => {
      cleanup();
      rejectStart(error);
    };
    const onExit = (code: number): void => {
      cleanup();
      rejectStart(new Error(`${name} worker exited with code ${code} before listening`));
    };
    const cleanup = (): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
  // Without a listener an 'error' event would throw in this thread and end the whole process.
  worker.on('error', reportError);

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      // Close the server first (its own close hooks run, open connections end), then the thread;
      // terminate() alone would end it too, but skip those hooks.
      const closed = new Promise<void>((resolveClose) => {
        const onMessage = (message: unknown): void => {
          if (isRecord(message) && message.type === 'stopped') {
            worker.off('message', onMessage);
            resolveClose();
          }
        };
        worker.on('message', onMessage);
      });
      worker.postMessage({ type: 'stop' });
      // A worker that already ended (it threw) answers nothing: its exit is the end of it.
      await Promise.race([closed, exited]);
      await worker.terminate();
      await exited;
    })();
    return stopped;
  };

  return { port, stop };
}
