import { authConfigFromEnv } from '../../shared/auth/config.js';
import { createTokenVerifier } from '../../shared/auth/verifier.js';
import { fromPowertools, observability } from '../../shared/observability/powertools.js';
import { createAuthorizerHandler } from '../../shared/routes/authorizer.js';

// Module load = cold start: a bad AUTH_* configuration fails here, naming the variable.
const verifier = createTokenVerifier(authConfigFromEnv(process.env));

export const handler = createAuthorizerHandler({ verifier, ...fromPowertools(observability('authorizer')) });
