/**
 * The fanout client SDK for dashboards (browsers and Node).
 *
 * @packageDocumentation
 */

export type { ErrorCode, EventFrame, Position, TopicEventFrame, UserEventFrame } from '@fanout/protocol';
export { DEFAULT_PING_INTERVAL_MS, ERROR_CODES, isErrorCode } from '@fanout/protocol';
export {
  type ClientEvents,
  type ClientOptions,
  type ClientStatus,
  type ConnectionState,
  FanoutClient,
  FanoutRequestError,
  type RecoveryResult,
  type SocketFactory,
  type SocketLike,
} from './client.js';
