import { type AuthSource, authSourceFromEnv } from '../../shared/auth/config.js';
import { createParameterSecretVerifier, ssmParameterLoader } from '../../shared/auth/secret-parameter.js';
import { createTokenVerifier, type TokenVerifier } from '../../shared/auth/verifier.js';
import { fromPowertools, observability } from '../../shared/observability/powertools.js';
import { createAuthorizerHandler } from '../../shared/routes/authorizer.js';

// Module load = cold start: a bad AUTH_* configuration fails here, naming the variable. The secret in
// SSM is read on the first token, once per cold start.
const source: AuthSource = authSourceFromEnv(process.env);
const verifier: TokenVerifier =
  'secretParameter' in source
    ? createParameterSecretVerifier(source, ssmParameterLoader())
    : createTokenVerifier(source);

export const handler = createAuthorizerHandler({ verifier, ...fromPowertools(observability('authorizer')) });
