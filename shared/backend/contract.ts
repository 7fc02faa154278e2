/**
 * The contract between API Gateway's HTTP integrations and `fanout backend` (docs/architecture.md,
 * "Routes on your own HTTP backend"): the path each route is sent to, the headers each integration
 * maps from API Gateway's context variables, and the proof header. This module is its single source:
 * the backend parses what it names (request.ts), the local gateway sends what it names
 * (local/gateway/http-integration.ts), and the Terraform `route_backend = "http"` choice builds its
 * `request_parameters` from a JSON rendering of it (terraform/modules/fanout/backend-contract.json,
 * written by `make tf-contract`, checked by test/terraform/route-backend.test.ts), never from a copy
 * of the names.
 *
 * Why headers at all: on an HTTP integration, API Gateway forwards the connection's details on
 * `$connect` only; `$default`, custom routes and `$disconnect` arrive without the connection id
 * unless the integration maps it ("Set up data mapping for WebSocket APIs in API Gateway").
 */

/** The route keys the backend serves. `ping` is the frame `$default` answers; an API may route it. */
export const BACKEND_ROUTE_KEYS = [
  '$connect',
  '$disconnect',
  '$default',
  'subscribe',
  'unsubscribe',
  'ping',
] as const;
export type BackendRouteKey = (typeof BACKEND_ROUTE_KEYS)[number];

export type EventType = 'CONNECT' | 'MESSAGE' | 'DISCONNECT';

export interface BackendRoute {
  /** The path of the integration URI: `<backend URL><path>`, method POST. */
  path: string;
  eventType: EventType;
  /** Whether the route has a route response, so the HTTP response body goes back to the client. */
  twoWay: boolean;
}

export const BACKEND_ROUTES: Readonly<Record<BackendRouteKey, BackendRoute>> = {
  $connect: { path: '/routes/connect', eventType: 'CONNECT', twoWay: false },
  $disconnect: { path: '/routes/disconnect', eventType: 'DISCONNECT', twoWay: false },
  $default: { path: '/routes/default', eventType: 'MESSAGE', twoWay: true },
  subscribe: { path: '/routes/subscribe', eventType: 'MESSAGE', twoWay: true },
  unsubscribe: { path: '/routes/unsubscribe', eventType: 'MESSAGE', twoWay: true },
  ping: { path: '/routes/ping', eventType: 'MESSAGE', twoWay: true },
};

/** Unauthenticated on purpose: a load balancer's health check carries no proof. */
export const HEALTH_PATH = '/health';

/**
 * The header the integration sets to the shared secret, a static value in its request parameters.
 * The backend refuses (403) any other call before reading anything else of it.
 */
export const PROOF_HEADER = 'X-Fanout-Gateway-Proof';

/** A header an integration maps, and the API Gateway expression it is mapped from. */
export interface MappedHeader {
  header: string;
  from: string;
  /** Mapped on these routes only (the variable exists on no other); absent: on every route. */
  routes?: readonly BackendRouteKey[];
}

export const MAPPED_HEADERS = {
  connectionId: { header: 'ConnectionId', from: 'context.connectionId' },
  routeKey: { header: 'RouteKey', from: 'context.routeKey' },
  eventType: { header: 'EventType', from: 'context.eventType' },
  connectedAt: { header: 'ConnectedAt', from: 'context.connectedAt' },
  requestId: { header: 'RequestId', from: 'context.requestId' },
  sourceIp: { header: 'SourceIp', from: 'context.identity.sourceIp' },
  // The REQUEST authorizer's context (shared/routes/grants.ts), which API Gateway keeps for the
  // connection's lifetime and exposes on every route. The user id is mapped percent-encoded: a
  // token's `sub` may be any text, a header value only visible ASCII (what API Gateway does with
  // another character in a mapped value is not documented; the local gateway sent "?" for it, and
  // "zoë" was stored as "zo?"). Not mapped: `principalId`, the raw `sub` again, which no route reads.
  userId: { header: 'AuthorizerUserId', from: 'context.authorizer.userIdEncoded' },
  topics: { header: 'AuthorizerTopics', from: 'context.authorizer.topics' },
  disconnectStatusCode: {
    header: 'DisconnectStatusCode',
    from: 'context.disconnectStatusCode',
    routes: ['$disconnect'],
  },
  disconnectReason: { header: 'DisconnectReason', from: 'context.disconnectReason', routes: ['$disconnect'] },
} as const satisfies Record<string, MappedHeader>;

export type MappedField = keyof typeof MAPPED_HEADERS;

/**
 * A proof secret the integration can carry as a static value: a single-quoted literal in the
 * request parameters, so no quote, and at least 32 characters (256 bits of base64 or hex), so it
 * cannot be guessed.
 */
export const PROOF_PATTERN = /^[A-Za-z0-9._~+/=-]{32,512}$/;

/**
 * The `request_parameters` of one route's integration, as API Gateway takes them:
 * `integration.request.header.<Name>` → a context expression, and the proof as a static value.
 */
export function requestParameters(routeKey: BackendRouteKey, proof: string): Record<string, string> {
  if (!PROOF_PATTERN.test(proof)) {
    throw new Error('the gateway proof must be 32 to 512 characters of A-Z a-z 0-9 . _ ~ + / = -');
  }
  const parameters: Record<string, string> = {};
  for (const mapped of Object.values(MAPPED_HEADERS) as MappedHeader[]) {
    if (mapped.routes && !mapped.routes.includes(routeKey)) continue;
    parameters[`integration.request.header.${mapped.header}`] = mapped.from;
  }
  parameters[`integration.request.header.${PROOF_HEADER}`] = `'${proof}'`;
  return parameters;
}

export const isBackendRouteKey = (key: string): key is BackendRouteKey =>
  (BACKEND_ROUTE_KEYS as readonly string[]).includes(key);

/** The route served at `path`, or undefined. */
export function routeAt(path: string): BackendRouteKey | undefined {
  return BACKEND_ROUTE_KEYS.find((key) => BACKEND_ROUTES[key].path === path);
}

/**
 * The contract as JSON, which the Terraform `route_backend = "http"` choice reads from a file
 * generated from this module (Terraform cannot import TypeScript; scripts/terraform/backend-contract.ts
 * renders it): each route's path, whether it is two-way, and its request parameters with the proof
 * left as `PROOF_PLACEHOLDER`, which Terraform replaces with the secret (given, or read from SSM).
 */
export const PROOF_PLACEHOLDER = 'PROOF';

export function contractDocument(): {
  proof_header: string;
  health_path: string;
  routes: Record<
    BackendRouteKey,
    { path: string; two_way: boolean; request_parameters: Record<string, string> }
  >;
} {
  const placeholder = 'P'.repeat(32);
  const routes = Object.fromEntries(
    BACKEND_ROUTE_KEYS.map((key) => {
      const parameters = requestParameters(key, placeholder);
      parameters[`integration.request.header.${PROOF_HEADER}`] = `'${PROOF_PLACEHOLDER}'`;
      return [
        key,
        {
          path: BACKEND_ROUTES[key].path,
          two_way: BACKEND_ROUTES[key].twoWay,
          request_parameters: parameters,
        },
      ];
    }),
  ) as ReturnType<typeof contractDocument>['routes'];
  return { proof_header: PROOF_HEADER, health_path: HEALTH_PATH, routes };
}
