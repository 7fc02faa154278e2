/**
 * Laying out Terraform files as `terraform fmt` does: with the terraform binary itself when one is
 * on the PATH (it needs no provider, so it works offline), else with @cdktf/hcl-tools, which wraps
 * the same HCL formatter compiled to WebAssembly. The terraform-binary test proves the two agree on
 * every file of the repository, so the checker's findings do not depend on the machine.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { format as hclToolsFormat } from '@cdktf/hcl-tools';

export interface Formatter {
  /** How the checker and `fmt` name it in their output. */
  readonly name: string;
  /** The source laid out; rejects when the source is not valid HCL. */
  format(source: string): Promise<string>;
}

/** The terraform executable on `PATH`, or undefined. */
export function terraformOnPath(path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, process.platform === 'win32' ? 'terraform.exe' : 'terraform');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

function cached(name: string, format: (source: string) => Promise<string>): Formatter {
  const results = new Map<string, Promise<string>>();
  return {
    name,
    format(source) {
      let result = results.get(source);
      if (result === undefined) {
        result = format(source);
        results.set(source, result);
      }
      return result;
    },
  };
}

export const hclTools: Formatter = cached('@cdktf/hcl-tools', (source) => hclToolsFormat(source));

/** `terraform fmt -` on the source: what `terraform fmt` would write to the file. */
export function terraformFmt(binary: string): Formatter {
  return cached('terraform fmt', (source) => {
    return new Promise((resolve, reject) => {
      // Formatting needs no provider and no CLI configuration (a missing one only warns, on stderr).
      const child = spawn(binary, ['fmt', '-no-color', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
      child.on('error', reject);
      child.on('close', (code) => {
        if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
        else
          reject(new Error(`terraform fmt failed (${code}): ${Buffer.concat(err).toString('utf8').trim()}`));
      });
      child.stdin.end(source);
    });
  });
}

let chosen: Formatter | undefined;

/** terraform fmt when the binary is on the PATH, else hcl-tools. */
export function defaultFormatter(): Formatter {
  if (chosen === undefined) {
    const binary = terraformOnPath();
    chosen = binary === undefined ? hclTools : terraformFmt(binary);
  }
  return chosen;
}
