/**
 * The API Gateway WebSocket event and result shapes the routes read and return, as listed in
 * docs/architecture.md ("The local runtime"). `@types/aws-lambda` models neither `identity`, `authorizer` nor the
 * disconnect fields on WebSocket events, hence these local types. Only fields we read are required.
 */

export interface WebSocketRequestContext {
  routeKey: string;
  eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT';
  connectionId: string;
  /** Epoch milliseconds; the same value on every event of one connection. */
  connectedAt: number;
  requestId?: string;
  extendedRequestId?: string;
  /** Only on MESSAGE events (null on some older CONNECT captures). */
  messageId?: string | null;
  messageDirection?: 'IN';
  /** CLF time, `dd/MMM/yyyy:HH:mm:ss +0000`. */
  requestTime?: string;
  requestTimeEpoch?: number;
  domainName?: string;
  stage?: string;
  apiId?: string;
  identity?: { sourceIp?: string; userAgent?: string };
  /** The authorizer's `context` (values stringified by API Gateway) plus `principalId`. */
  authorizer?: Readonly<Record<string, unknown>> | null;
  /** `$disconnect` only. */
  disconnectStatusCode?: number;
  disconnectReason?: string;
}

type StringMap = Readonly<Record<string, string | undefined>>;
type MultiStringMap = Readonly<Record<string, string[] | undefined>>;

/** A `$connect`, MESSAGE or `$disconnect` proxy event. MESSAGE events carry `body` and no headers. */
export interface WebSocketEvent {
  requestContext: WebSocketRequestContext;
  body?: string | null;
  isBase64Encoded?: boolean;
  headers?: StringMap | null;
  multiValueHeaders?: MultiStringMap | null;
  queryStringParameters?: StringMap | null;
  multiValueQueryStringParameters?: MultiStringMap | null;
  stageVariables?: StringMap | null;
}

/** The REQUEST authorizer's input on `$connect`: a connect event plus `type` and `methodArn`. */
export interface WebSocketAuthorizerEvent extends WebSocketEvent {
  type: 'REQUEST';
  /** `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/$connect` */
  methodArn: string;
}

/** What a route Lambda returns; on a two-way route API Gateway sends `body` back as the reply frame. */
export interface RouteResponse {
  statusCode: number;
  body?: string;
}

/** Authorizer context values: API Gateway refuses arrays and objects here, so lists travel as JSON text. */
export interface AuthorizerContext {
  [key: string]: string | number | boolean;
  userId: string;
  /**
   * `userId` percent-encoded (encodeURIComponent): ASCII whatever the token's `sub`, so an HTTP
   * integration can map it into a header (shared/backend/contract.ts). The Lambda routes read `userId`.
   */
  userIdEncoded: string;
  topics: string;
}

export interface AuthorizerResponse {
  principalId: string;
  policyDocument: {
    Version: '2012-10-17';
    Statement: [{ Action: 'execute-api:Invoke'; Effect: 'Allow'; Resource: string }];
  };
  context: AuthorizerContext;
}
