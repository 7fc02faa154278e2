// Stands in for @aws-sdk/credential-provider-node in the Lambda bundles (scripts/build.mjs aliases
// it). That package is the SDK's whole default chain: SSO, INI files, process, web identity, IMDS,
// each with its own nested clients, about a fifth of a function's bundle. Inside Lambda the execution
// role's credentials are always in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN), and the local runner sets them the same way, so the environment provider is
// the whole chain a function needs. Its error, should they be missing, names those variables.
import { fromEnv } from '@aws-sdk/credential-provider-env';

export const defaultProvider = (init = {}) => fromEnv(init);
