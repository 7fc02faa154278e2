/**
 * The fan-out function with the plain SDK `@connections` adapter (ApiGatewayManagementApiClient, its
 * middleware stack and signer per call) in place of the lean signed one: the comparison issue 9 keeps
 * selectable. Only the benchmark builds it (bundle.ts); the deployed bundle has no
 * Management API client at all.
 */
import { composeFanout } from '../../functions/fanout/compose.js';
import {
  ApiGatewayConnectionGateway,
  createManagementClient,
} from '../../shared/gateway/gateway-apigateway.js';

export const handler = composeFanout(
  ({ endpoint, maxSockets, requestTimeoutMs }) =>
    new ApiGatewayConnectionGateway(createManagementClient({ endpoint, maxSockets, requestTimeoutMs })),
);
