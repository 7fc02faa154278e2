import { MAX_CONNECTION_DURATION_SECONDS } from '@fanout/protocol';

/** Rows outlive their connection by this margin at most (TTL deletion is itself lazy). */
export const ROW_TTL_MARGIN_SECONDS = 15 * 60;

/** Epoch seconds after which a connection's rows may be deleted by DynamoDB TTL. */
export const rowExpiry = (connectedAtMs: number): number =>
  Math.floor(connectedAtMs / 1000) + MAX_CONNECTION_DURATION_SECONDS + ROW_TTL_MARGIN_SECONDS;
