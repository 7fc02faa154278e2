import type { IncomingMessage } from 'node:http';

/**
 * Reads a request body, keeping at most `limit` bytes. Past the limit it keeps draining (so the
 * keep-alive connection survives) but stops storing, and reports the full size: each local server
 * answers an oversized body with its own service's error.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<{ data: Buffer; size: number }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer | string) => {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      if (size + buffer.length <= limit) chunks.push(buffer);
      size += buffer.length;
    });
    let ended = false;
    req.on('end', () => {
      ended = true;
      resolve({ data: Buffer.concat(chunks), size });
    });
    req.on('error', reject);
    // A socket cut mid-body (client gone, server shutting down) must not leave this pending forever.
    req.on('close', () => {
      if (!ended) reject(new Error('request closed before its body ended'));
    });
  });
}
