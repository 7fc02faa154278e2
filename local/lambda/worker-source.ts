/**
 * The code of one Lambda execution environment, run in a `worker_threads` Worker with `eval: true`.
 *
 * Why a string and not a `.mjs` file beside this one: the runner is loaded three ways — by jest (transformed to
 * CommonJS by swc, so `import.meta.url` is a syntax error and a native `import()` from the main thread fails
 * with ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING_FLAG), by tsx, and possibly bundled by esbuild (where a sibling
 * file path would not survive). An eval worker is a plain Node.js script in a fresh V8 isolate, outside jest's
 * module system, so its `import()` of the bundle's file URL is Node's own ESM loader in every case.
 *
 * It mirrors the parts of the AWS Lambda Node.js runtime interface client (RIC) that a handler can observe:
 * - the bundle is imported once per environment (cold start) and its module state survives later invocations
 *   (warm starts);
 * - `handler(event, context, callback)`: a returned promise settles the invocation; otherwise the callback or
 *   the deprecated `context.done/succeed/fail` does (a sync handler that does neither runs into the timeout,
 *   as on Lambda);
 * - errors are reported like the RIC: `{ errorType: error.name, errorMessage, trace }`, or
 *   `{ errorType: typeof value, errorMessage: String(value), trace: [] }` for a thrown non-Error;
 * - `console.*` is patched to Lambda's text log format `<ISO time>\t<request id>\t<LEVEL>\t<message>` with
 *   newlines turned into `\r` so that one call is one log event; the request id is `undefined` during init;
 * - an unhandled rejection fails the invocation with `Runtime.UnhandledPromiseRejection` and ends the
 *   environment, an uncaught exception likewise (the runtime process exits on Lambda too).
 * Every write to stdout/stderr (also from loggers that hold their own `Console` on `process.stdout`, like
 * Powertools Logger) is posted to the parent on the same port as the results, so logs stay in order.
 *
 * The string must not contain backticks or dollar-brace sequences (it is a template literal here).
 */
export const LAMBDA_WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { format } = require('node:util');
const { pathToFileURL } = require('node:url');
const { getHeapStatistics } = require('node:v8');
const { performance } = require('node:perf_hooks');

let currentRequestId;

const post = (message) => parentPort.postMessage(message);

for (const stream of ['stdout', 'stderr']) {
  process[stream].write = function write(chunk, encoding, cb) {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    post({ type: 'log', stream, text });
    const done = typeof encoding === 'function' ? encoding : cb;
    if (typeof done === 'function') queueMicrotask(() => done());
    return true;
  };
}

const LEVELS = { log: 'INFO', info: 'INFO', debug: 'DEBUG', trace: 'TRACE', warn: 'WARN', error: 'ERROR' };
for (const method of Object.keys(LEVELS)) {
  console[method] = (...args) => {
    const message = format(...args).replace(/\n/g, '\r');
    process.stdout.write(new Date().toISOString() + '\t' + currentRequestId + '\t' + LEVELS[method] + '\t' + message + '\n');
  };
}

function isErrorLike(value) {
  return value instanceof Error ||
    (value !== null && typeof value === 'object' && typeof value.name === 'string' && typeof value.message === 'string');
}

function toErrorPayload(value) {
  if (isErrorLike(value)) {
    return { errorType: value.name, errorMessage: value.message, trace: String(value.stack || '').split('\n') };
  }
  return { errorType: typeof value, errorMessage: String(value), trace: [] };
}

function heapUsedMb() {
  return Math.ceil(getHeapStatistics().used_heap_size / 1048576);
}

process.on('unhandledRejection', (reason) => {
  const errorMessage = isErrorLike(reason) ? reason.name + ': ' + reason.message : String(reason);
  const trace = isErrorLike(reason) ? String(reason.stack || '').split('\n') : [];
  post({ type: 'crash', error: { errorType: 'Runtime.UnhandledPromiseRejection', errorMessage, trace } });
  process.exit(128);
});
process.on('uncaughtException', (error) => {
  post({ type: 'crash', error: toErrorPayload(error) });
  process.exit(129);
});

let handler;

async function init() {
  const started = performance.now();
  let mod;
  try {
    mod = await import(pathToFileURL(workerData.bundlePath).href);
  } catch (error) {
    const code = error && error.code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_UNSUPPORTED_DIR_IMPORT') {
      return post({ type: 'init-error', error: { ...toErrorPayload(error), errorType: 'Runtime.ImportModuleError' } });
    }
    if (error instanceof SyntaxError) {
      return post({ type: 'init-error', error: { ...toErrorPayload(error), errorType: 'Runtime.UserCodeSyntaxError' } });
    }
    return post({ type: 'init-error', error: toErrorPayload(error) });
  }
  handler = mod[workerData.handlerName];
  if (typeof handler !== 'function') {
    return post({
      type: 'init-error',
      error: {
        errorType: 'Runtime.HandlerNotFound',
        errorMessage: 'index.' + workerData.handlerName + ' is undefined or not exported',
        trace: [],
      },
    });
  }
  post({ type: 'ready', initDurationMs: performance.now() - started });
}

function invoke(message) {
  currentRequestId = message.requestId;
  const invocation = { settled: false };
  const succeed = (value) => {
    if (invocation.settled) return;
    invocation.settled = true;
    let payload;
    try {
      payload = JSON.stringify(value === undefined ? null : value);
    } catch (error) {
      return post({
        type: 'error',
        id: message.id,
        error: { ...toErrorPayload(error), errorType: 'Runtime.MarshalError' },
        memoryUsedMb: heapUsedMb(),
      });
    }
    post({ type: 'result', id: message.id, payload: payload === undefined ? 'null' : payload, memoryUsedMb: heapUsedMb() });
  };
  const fail = (error) => {
    if (invocation.settled) return;
    invocation.settled = true;
    post({ type: 'error', id: message.id, error: toErrorPayload(error), memoryUsedMb: heapUsedMb() });
  };
  const callback = (error, value) => {
    if (error === undefined || error === null) succeed(value);
    else fail(error);
  };
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: message.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: message.invokedFunctionArn,
    memoryLimitInMB: message.memoryLimitInMB,
    awsRequestId: message.requestId,
    logGroupName: message.logGroupName,
    logStreamName: message.logStreamName,
    getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
    done: (error, value) => callback(error, value),
    succeed: (value) => succeed(value),
    fail: (error) => fail(error === undefined || error === null ? 'handled' : error),
  };
  let event;
  try {
    event = JSON.parse(message.event);
  } catch (error) {
    return fail(error);
  }
  try {
    const result = handler(event, context, callback);
    if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
      result.then(succeed, (error) => fail(error === undefined ? new Error('undefined') : error));
    }
  } catch (error) {
    fail(error);
  }
}

parentPort.on('message', (message) => {
  if (message && message.type === 'invoke') invoke(message);
});

init().catch((error) => post({ type: 'init-error', error: toErrorPayload(error) }));
`;
