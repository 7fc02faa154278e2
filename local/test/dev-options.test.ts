/**
 * `fanout dev`'s reverse-proxy options are checked before anything starts: a bad trusted proxy or
 * public URL is an error naming the value, not a platform that silently trusts nobody (or everybody)
 * or tells the dashboard a URL no browser can use.
 */
import { devCommand } from '../dev/command.js';

function io() {
  const lines: string[] = [];
  return { lines, out: (line: string) => lines.push(line), err: (line: string) => lines.push(line) };
}

describe('fanout dev behind a reverse proxy: options', () => {
  it.each([
    [{ trustedProxy: ['proxy.internal'] }, 'invalid trusted proxy "proxy.internal"'],
    [{ trustedProxy: ['127.0.0.1,10.0.0.0/40'] }, 'invalid trusted proxy "10.0.0.0/40"'],
    [{ publicUrl: 'https://dash.example.com/live' }, '--public-url must be a ws:// or wss:// URL'],
    [{ publicUrl: 'wss://dash.example.com/live?token=x' }, 'without a query'],
    [{ publicUrl: 'not a url' }, '--public-url must be'],
    [{ port: '65536' }, '--port must be a port number, got 65536'],
    [{ dashboardPort: 'x' }, '--dashboard-port must be a port number, got x'],
    [{ maxConnectionSeconds: '7201' }, '--max-connection-seconds must be a whole number of seconds'],
    [{ routeBackend: 'grpc' }, '--route-backend must be lambda or http, got grpc'],
  ])('refuses %j before starting anything, as a usage error with a stable code', async (options, message) => {
    const output = io();
    const refusal = devCommand(options, output);
    await expect(refusal).rejects.toThrow(message);
    await expect(refusal).rejects.toMatchObject({ code: 'invalid_value', usage: true });
    expect(output.lines).toEqual([]);
  });
});
