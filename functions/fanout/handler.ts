import { fromEnv } from '@aws-sdk/credential-provider-env';
import { SignedConnectionGateway } from '../../shared/gateway/gateway-signed.js';
import { composeFanout } from './compose.js';

// Built once per cold start; every invocation reuses the clients and their keep-alive sockets.
// The lean @connections path: SigV4-signed posts on a keep-alive pool, with the execution role's
// credentials from the environment Lambda sets (docs/architecture.md, "The fan-out algorithm").
export const handler = composeFanout(
  (settings) => new SignedConnectionGateway({ ...settings, credentials: fromEnv() }),
);
