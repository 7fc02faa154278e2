/**
 * WebSocket frame-level limits. AWS quota table ("Quotas for configuring and running a WebSocket in API
 * Gateway"): frame size 32 KB, message payload 128 KB; "messages larger than 32 KB must be split into
 * multiple frames, each 32 KB or smaller. This applies to @connections commands. If a larger message
 * (or larger frame size) is received, the connection is closed with code 1009."
 */
import { isUtf8 } from 'node:buffer';
import type { WebSocket } from 'ws';

export const MAX_FRAME_BYTES = 32 * 1024;
/** Also the `@connections` `Data` maximum in the service model (131072, ApiGatewayManagementApi service model). */
export const MAX_MESSAGE_BYTES = 128 * 1024;

/**
 * Watches the raw bytes a client sends and reports the first data frame whose payload is over the
 * limit. `ws` only offers `maxPayload`, which bounds a whole (possibly fragmented) message, so the
 * per-frame limit needs this parallel parse of frame headers (2–14 bytes each; payloads are skipped,
 * not copied). It must see the bytes before `ws` does, hence `prependListener('data', …)`.
 * Control frames (ping/pong/close) are exempt: RFC 6455 caps them at 125 bytes anyway.
 * Not enforced: with permessage-deflate the wire frame would be the compressed size; the gateway
 * does not negotiate compression, so wire size and payload size are the same.
 */
export class FrameSizeGuard {
  private header: number[] = [];
  private skip = 0;
  private tripped = false;

  constructor(
    private readonly maxFrameBytes: number,
    private readonly onOversize: (payloadBytes: number) => void,
  ) {}

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length && !this.tripped) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - offset);
        this.skip -= n;
        offset += n;
        continue;
      }
      this.header.push(chunk[offset] ?? 0);
      offset += 1;
      this.afterHeaderByte();
    }
  }

  private afterHeaderByte(): void {
    const h = this.header;
    if (h.length < 2) return;
    const len7 = (h[1] ?? 0) & 0x7f;
    const masked = ((h[1] ?? 0) & 0x80) !== 0;
    const total = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
    if (h.length < total) return;
    const bytes = Buffer.from(h);
    const payload =
      len7 === 126
        ? bytes.readUInt16BE(2)
        : len7 === 127
          ? bytes.readUInt32BE(2) * 2 ** 32 + bytes.readUInt32BE(6)
          : len7;
    const opcode = (h[0] ?? 0) & 0x0f;
    this.header = [];
    if (opcode < 0x08 && payload > this.maxFrameBytes) {
      this.tripped = true;
      this.onOversize(payload);
      return;
    }
    this.skip = payload;
  }
}

/**
 * Sends one message the way API Gateway delivers it: in frames of at most 32 KB. PostToConnection data
 * that is valid UTF-8 goes out as a text frame (API Gateway WebSocket APIs are text-only: "binary
 * payloads are not supported"); anything else as binary, since a text frame must hold valid UTF-8 and
 * a client would otherwise fail the connection with 1007 (what AWS does with such data is not
 * documented). Resolves once the last frame has been written to the socket.
 */
export function sendMessage(ws: WebSocket, data: Buffer): Promise<void> {
  const binary = !isUtf8(data);
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => (err ? reject(err) : resolve());
    if (data.length <= MAX_FRAME_BYTES) {
      ws.send(data, { binary, fin: true }, done);
      return;
    }
    for (let start = 0; start < data.length; start += MAX_FRAME_BYTES) {
      const end = Math.min(start + MAX_FRAME_BYTES, data.length);
      const last = end === data.length;
      // Splitting inside a UTF-8 sequence is fine: receivers validate the reassembled message.
      ws.send(data.subarray(start, end), { binary, fin: last }, last ? done : undefined);
    }
  });
}
