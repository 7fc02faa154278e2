import { execFile } from 'node:child_process';
import { CommandError } from './errors.js';

/** `terraform output -json` of a deployed stack is a few KB; this is room to spare. */
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;
/** Reading outputs may refresh a remote state (S3): slow, but not this slow. */
const TIMEOUT_MS = 120_000;

/**
 * The root outputs of the Terraform stack in `dir`, by name (`terraform -chdir=DIR output -json`
 * gives `{ name: { value, type, sensitive } }`; this keeps the values). Only called when the user
 * asked for it (`--terraform-dir`), so nothing else in the CLI needs Terraform installed.
 */
export async function terraformOutputs(dir: string, env: NodeJS.ProcessEnv): Promise<Map<string, unknown>> {
  const stdout = await new Promise<string>((resolve, reject) => {
    // `env` is where `terraform` is looked up (its PATH), as it would be for any command the user runs.
    execFile(
      'terraform',
      [`-chdir=${dir}`, 'output', '-json', '-no-color'],
      { env, maxBuffer: MAX_OUTPUT_BYTES, timeout: TIMEOUT_MS, encoding: 'utf8' },
      (err, out, errOut) => {
        if (!err) return resolve(out);
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          return reject(
            new CommandError(
              'terraform_not_found',
              'terraform is not on PATH: install it, or pass --queue-url and --dlq-url (the outputs fanout_queue_url and fanout_dlq_url)',
            ),
          );
        }
        const why = lastLines(errOut) || err.message;
        reject(new CommandError('terraform_failed', `terraform -chdir=${dir} output -json failed: ${why}`));
      },
    );
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw new CommandError('terraform_failed', `terraform -chdir=${dir} output -json did not print JSON`);
  }
  const outputs = new Map<string, unknown>();
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CommandError(
      'terraform_failed',
      `terraform -chdir=${dir} output -json did not print an object`,
    );
  }
  for (const [name, output] of Object.entries(parsed)) {
    if (typeof output === 'object' && output !== null && 'value' in output) outputs.set(name, output.value);
  }
  return outputs;
}

/** A string output, or undefined when the stack has no such output. */
export function stringOutput(outputs: ReadonlyMap<string, unknown>, name: string): string | undefined {
  const value = outputs.get(name);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Terraform's errors end with the useful part; its box-drawing lines carry nothing. */
function lastLines(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !/^[│╷╵]$/.test(line))
    .slice(-3)
    .join(' ');
}
