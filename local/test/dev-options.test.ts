/**
 * `fanout dev`'s reverse-proxy options are checked before anything starts: a bad trusted proxy or
 * public URL is an error naming the value, not a platform that silently trusts nobody (or everybody)
 * or tells the dashboard a URL no browser can use.
 */
import { devMain } from '../dev/command.js';

function io() {
  const lines: string[] = [];
  return { lines, out: (line: string) => lines.push(line), err: (line: string) => lines.push(line) };
}

describe('fanout dev behind a reverse proxy: options', () => {
  it.each([
    [['--trusted-proxy', 'proxy.internal'], 'invalid trusted proxy "proxy.internal"'],
    [['--trusted-proxy', '127.0.0.1,10.0.0.0/40'], 'invalid trusted proxy "10.0.0.0/40"'],
    [['--public-url', 'https://dash.example.com/live'], '--public-url must be a ws:// or wss:// URL'],
    [['--public-url', 'wss://dash.example.com/live?token=x'], 'without a query'],
    [['--public-url', 'not a url'], '--public-url must be'],
    [['--route-backend', 'grpc'], '--route-backend must be lambda or http, got grpc'],
  ])('refuses %j before starting anything', async (argv, message) => {
    const output = io();
    await expect(devMain(argv, output)).rejects.toThrow(message);
    expect(output.lines).toEqual([]);
  });
});
