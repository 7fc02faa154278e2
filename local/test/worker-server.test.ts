/**
 * A stand-in's server in a worker thread (local/worker-server.ts): start resolves with the port the
 * worker listens on, and says which server failed and how when it cannot start.
 */
import { request } from 'node:http';
import { startWorkerServer } from '../worker-server.js';

const LISTENING = `
const { parentPort } = require('node:worker_threads');
const server = require('node:http').createServer((req, res) => res.end('from the worker'));
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ type: 'listening', port: server.address().port }));
parentPort.on('message', (m) => { if (m.type === 'stop') server.close(() => parentPort.postMessage({ type: 'stopped' })); });
`;

const get = (port: number): Promise<string> =>
  new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/' }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () => resolve(body));
    })
      .on('error', reject)
      .end();
  });

describe('a stand-in server in a worker thread', () => {
  it('resolves with the port its server listens on, and stops it, once however often asked', async () => {
    const server = await startWorkerServer('echo', LISTENING, {});
    expect(await get(server.port)).toBe('from the worker');
    await Promise.all([server.stop(), server.stop()]);
    await expect(get(server.port)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('fails to start with the error the worker reports, naming the server', async () => {
    const source = `require('node:worker_threads').parentPort.postMessage({ type: 'error', error: 'no table' });`;
    await expect(startWorkerServer('dynalite', source, {})).rejects.toThrow(
      'dynalite failed to start: no table',
    );
  });

  it('fails to start when the worker ends before it listens, with its exit code', async () => {
    await expect(startWorkerServer('fauxqs', 'process.exit(3);', {})).rejects.toThrow(
      'fauxqs worker exited with code 3 before listening',
    );
  });

  it('fails to start when the worker throws', async () => {
    await expect(startWorkerServer('fauxqs', "throw new Error('broken source');", {})).rejects.toThrow(
      'broken source',
    );
  });

  it('reports an error the worker throws once it listens, and still stops', async () => {
    const errors: Error[] = [];
    const source = `${LISTENING}\nsetTimeout(() => { throw new Error('late failure'); }, 20);`;
    const server = await startWorkerServer('echo', source, {}, (error) => errors.push(error));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(errors.map((e) => e.message)).toEqual(['late failure']);
    // The thread has ended: stop answers at once instead of waiting for a 'stopped' that never comes.
    await server.stop();
  });
});
