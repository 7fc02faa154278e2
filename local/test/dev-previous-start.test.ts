/**
 * What `fanout dev` does with the `.fanout/local.json` a previous start left in its directory: the
 * recorded process id says whether that platform is still there.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPreviousStart } from '../dev/command.js';

let dir: string;
let file: string;
const lines: string[] = [];
const io = { out: (line: string) => lines.push(line), err: (line: string) => lines.push(line) };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fanout-previous-'));
  file = join(dir, 'local.json');
  lines.length = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function exitedPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((done) => child.once('exit', done));
  return child.pid ?? 0;
}

describe('a previous start’s endpoints file', () => {
  // Our parent, and init (another user's process when not root: EPERM, which means it exists).
  it.each([process.ppid, 1])('is refused while the process it names (%d) runs', (pid) => {
    writeFileSync(file, JSON.stringify({ pid }));
    expect(() => checkPreviousStart(file, io)).toThrow(
      expect.objectContaining({
        code: 'already_running',
        message: expect.stringContaining(`(process ${pid})`),
      }),
    );
    expect(lines).toEqual([]);
  });

  it('is replaced, with a line saying so, when that process is gone', async () => {
    const pid = await exitedPid();
    writeFileSync(file, JSON.stringify({ pid }));
    expect(() => checkPreviousStart(file, io)).not.toThrow();
    expect(lines).toEqual([
      `fanout: replacing .fanout/local.json, left by a fanout dev (process ${pid}) that is no longer running`,
    ]);
  });

  it.each([
    ['no file', undefined],
    ['a file that is not JSON', '{'],
    ['a file without a pid (written before pids were)', '{"websocketUrl":"ws://127.0.0.1:4510/local"}'],
    ['a file naming this very process', JSON.stringify({ pid: process.pid })],
  ])('is simply overwritten when it is %s', (_what, content) => {
    if (content !== undefined) writeFileSync(file, content);
    expect(() => checkPreviousStart(file, io)).not.toThrow();
    expect(lines).toEqual([]);
  });
});
