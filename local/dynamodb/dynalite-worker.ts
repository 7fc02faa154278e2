/**
 * dynalite's server, run in a Worker (../worker-server.ts): a Query of a thousand rows is one long
 * task for it, which in the platform's main thread held every `@connections` post then in flight.
 * Listens on loopback, on an ephemeral port that only the forwarder in dynamodb.ts uses.
 *
 * workerData: `entry` (dynalite's main file, resolved by the parent) and `path` (on-disk data, or
 * none for memory). The string must not contain backticks or dollar-brace sequences.
 */
export const DYNALITE_WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');

try {
  const dynalite = require(workerData.entry);
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    ...(workerData.path ? { path: workerData.path } : {}),
  });
  server.once('error', (error) => parentPort.postMessage({ type: 'error', error: String(error) }));
  server.listen(0, '127.0.0.1', () => {
    parentPort.postMessage({ type: 'listening', port: server.address().port });
  });
  parentPort.on('message', (message) => {
    if (!message || message.type !== 'stop') return;
    server.close((error) => parentPort.postMessage({ type: 'stopped', error: error ? String(error) : undefined }));
    server.closeAllConnections();
  });
} catch (error) {
  parentPort.postMessage({ type: 'error', error: String((error && error.stack) || error) });
}
`;
