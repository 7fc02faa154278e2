import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ConfigError } from '../config.js';
import type { ClaimChecks } from './config.js';
import { createTokenVerifier, type TokenVerifier } from './verifier.js';

/**
 * The HS256 secret kept in SSM Parameter Store (a SecureString), so that it is in neither the
 * function's environment nor Terraform's state: read once per cold start, on the first token, and
 * kept for the environment's life. A failed read is not kept: the next connection tries again.
 *
 * The value holds one secret per line. During a rotation it holds the new secret and the old one,
 * and a token signed with either is accepted (terraform/README.md, "Rotate the HS256 secret").
 */

/** Reads a parameter's decrypted value. */
export type LoadParameter = (name: string) => Promise<string>;

/** The SDK's GetParameter with decryption (the AWS managed key `aws/ssm` needs no KMS grant). */
export function ssmParameterLoader(client: SSMClient = new SSMClient({})): LoadParameter {
  return async (name) => {
    const { Parameter } = await client.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    if (Parameter?.Value === undefined) throw new ConfigError(`the SSM parameter ${name} has no value`);
    return Parameter.Value;
  };
}

/** The secrets of a parameter's value: one a line, each used byte for byte; blank lines are skipped. */
export function secretsFromParameter(value: string): string[] {
  return value.split('\n').filter((line) => line.length > 0);
}

/** A verifier whose secret(s) come from the parameter `secretParameter`, read once per cold start. */
export function createParameterSecretVerifier(
  config: ClaimChecks & { secretParameter: string },
  load: LoadParameter,
): TokenVerifier {
  const { secretParameter, ...checks } = config;
  let verifier: Promise<TokenVerifier> | undefined;
  const ready = (): Promise<TokenVerifier> => {
    verifier ??= load(secretParameter).then(
      (value) => createTokenVerifier({ ...checks, secret: secretsFromParameter(value) }),
      (err: unknown) => {
        verifier = undefined;
        throw err;
      },
    );
    return verifier;
  };
  return { verify: async (token) => (await ready()).verify(token) };
}
