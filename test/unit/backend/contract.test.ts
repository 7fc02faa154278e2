import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BACKEND_ROUTE_KEYS,
  BACKEND_ROUTES,
  contractDocument,
  isBackendRouteKey,
  MAPPED_HEADERS,
  PROOF_HEADER,
  requestParameters,
  routeAt,
} from '../../../shared/backend/contract';

const PROOF = 'proof-0123456789abcdef0123456789abcdef';

describe('the backend contract (what the integrations map, what the backend reads)', () => {
  it('maps the connection, the route, the event type, the time, the request, the source address and the grants on every route, and the proof as a quoted static value', () => {
    for (const route of BACKEND_ROUTE_KEYS) {
      const parameters = requestParameters(route, PROOF);
      expect(parameters).toMatchObject({
        'integration.request.header.ConnectionId': 'context.connectionId',
        'integration.request.header.RouteKey': 'context.routeKey',
        'integration.request.header.EventType': 'context.eventType',
        'integration.request.header.ConnectedAt': 'context.connectedAt',
        'integration.request.header.RequestId': 'context.requestId',
        'integration.request.header.SourceIp': 'context.identity.sourceIp',
        // Percent-encoded: a header carries ASCII only, a user id any text.
        'integration.request.header.AuthorizerUserId': 'context.authorizer.userIdEncoded',
        'integration.request.header.AuthorizerTopics': 'context.authorizer.topics',
        [`integration.request.header.${PROOF_HEADER}`]: `'${PROOF}'`,
      });
      // The raw `sub` again, which no route reads, and which may not be ASCII.
      expect(parameters).not.toHaveProperty('integration.request.header.AuthorizerPrincipalId');
    }
  });

  it('maps the disconnect status and reason on $disconnect only, where the variables exist', () => {
    const disconnect = requestParameters('$disconnect', PROOF);
    expect(disconnect['integration.request.header.DisconnectStatusCode']).toBe(
      'context.disconnectStatusCode',
    );
    expect(disconnect['integration.request.header.DisconnectReason']).toBe('context.disconnectReason');
    for (const route of BACKEND_ROUTE_KEYS.filter((key) => key !== '$disconnect')) {
      expect(Object.keys(requestParameters(route, PROOF))).not.toContain(
        'integration.request.header.DisconnectStatusCode',
      );
    }
  });

  it.each([
    ['shorter than 32 characters', 'too-short-0123456789'],
    ['with a quote, which would end the static value', `${PROOF}'`],
    ['with a space', `${PROOF} x`],
  ])('refuses a proof %s', (_what, proof) => {
    expect(() => requestParameters('$connect', proof)).toThrow(
      'the gateway proof must be 32 to 512 characters',
    );
  });

  it('gives every route its own path, finds the route by its path, and nothing at another', () => {
    const paths = BACKEND_ROUTE_KEYS.map((key) => BACKEND_ROUTES[key].path);
    expect(new Set(paths).size).toBe(paths.length);
    for (const key of BACKEND_ROUTE_KEYS) expect(routeAt(BACKEND_ROUTES[key].path)).toBe(key);
    expect(routeAt('/routes')).toBeUndefined();
    expect(routeAt('/routes/connect/')).toBeUndefined();
    expect(isBackendRouteKey('subscribe')).toBe(true);
    expect(isBackendRouteKey('publish')).toBe(false);
  });

  it('names header names API Gateway accepts (letters, digits and - only)', () => {
    for (const { header } of Object.values(MAPPED_HEADERS)) expect(header).toMatch(/^[A-Za-z0-9-]+$/);
    expect(PROOF_HEADER).toMatch(/^[A-Za-z0-9-]+$/);
  });

  it('is the one docs/architecture.md describes: every mapped header and the proof header are in its table', () => {
    const doc = readFileSync(join(__dirname, '../../../docs/architecture.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Routes on your own HTTP backend'));
    for (const { header, from } of Object.values(MAPPED_HEADERS)) {
      expect(section).toContain(`\`${header}\``);
      expect(section).toContain(from.split('.').slice(-1)[0]);
    }
    expect(section).toContain(`\`${PROOF_HEADER}\``);
  });

  it('renders as JSON for Terraform: every route with its path, kind and parameters, the proof a placeholder', () => {
    const document = JSON.parse(JSON.stringify(contractDocument()));
    expect(document.proof_header).toBe(PROOF_HEADER);
    expect(document.health_path).toBe('/health');
    expect(Object.keys(document.routes)).toEqual([...BACKEND_ROUTE_KEYS]);
    expect(document.routes.subscribe).toEqual({
      path: '/routes/subscribe',
      two_way: true,
      request_parameters: {
        ...requestParameters('subscribe', PROOF),
        [`integration.request.header.${PROOF_HEADER}`]: "'PROOF'",
      },
    });
    expect(document.routes.$connect.two_way).toBe(false);
  });
});
