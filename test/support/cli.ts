/**
 * The real `fanout` bin (sdk/cli/bin/fanout.mjs) in a child process, as a user runs it, or any other
 * command a test starts the same way (`runProcess`: an installed bin, a README example): its output
 * collected as it comes, its exit awaited with a bound. Children a test leaves running are killed by
 * `killAll()` (call it in afterAll).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { basename, join } from 'node:path';
import { waitUntil } from '../../local/test/support/wait';
import { ROOT_DIR } from './platform';

export const FANOUT_BIN = join(ROOT_DIR, 'sdk/cli/bin/fanout.mjs');

/** The AWS SDK's switch for its Node-version warning, which jest's config sets for the tests. */
export const WARNING_SWITCH = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

/** The test's environment without the switch: what a user's shell has. */
export function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { [WARNING_SWITCH]: _switch, ...env } = process.env;
  return { ...env, ...extra };
}

export interface Run {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Both streams, labelled: what a failing test prints. */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal), or rejects after `timeoutMs`. */
  exit(timeoutMs?: number): Promise<number | null>;
  /** Waits until stdout or stderr contains `text`; rejects (with the output) if the process exits first. */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();

export interface RunOptions {
  /** The repository's root unless given. */
  cwd?: string;
  /** `userEnv()` unless given. */
  env?: NodeJS.ProcessEnv;
  /** Written to the child's stdin, which is then closed; without it stdin is /dev/null. */
  stdin?: string;
}

/** `fanout <args>`: the repository's bin under this Node. */
export function runFanout(args: readonly string[], options: RunOptions = {}): Run {
  return runProcess(process.execPath, [FANOUT_BIN, ...args], options, `fanout ${args.join(' ')}`);
}

/** `command <args>`; `name` is how errors call it (the command and its arguments unless given). */
export function runProcess(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
  name = `${basename(command)} ${args.join(' ')}`,
): Run {
  const child = spawn(command, args, {
    cwd: options.cwd ?? ROOT_DIR,
    env: options.env ?? userEnv(),
    stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  if (options.stdin !== undefined) child.stdin?.end(options.stdin);
  const exited = new Promise<number | null>((done) =>
    child.once('exit', (code) => {
      running.delete(child);
      done(code);
    }),
  );
  const output = () => `stdout:\n${out}\nstderr:\n${err}`;
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    output,
    exit: (timeoutMs = 45_000) =>
      Promise.race([
        exited,
        new Promise<never>((_, reject) =>
          setTimeout(
            () => reject(new Error(`${name} did not exit within ${timeoutMs} ms\n${output()}`)),
            timeoutMs,
          ).unref(),
        ),
      ]),
    waitFor: async (text, timeoutMs = 45_000) => {
      await waitUntil(
        () => {
          if (out.includes(text) || err.includes(text)) return true;
          if (child.exitCode !== null)
            throw new Error(`${name} exited (${child.exitCode}) before "${text}"\n${output()}`);
          return false;
        },
        `"${text}" from ${name}`,
        timeoutMs,
        50,
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n${output()}`);
      });
    },
  };
}

/** Kills (SIGKILL) every child still running and waits for each to go. */
export async function killAll(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          child.once('exit', () => done());
          child.kill('SIGKILL');
        }),
    ),
  );
}
