/**
 * The fanout client SDK for dashboards (browsers and Node).
 *
 * @packageDocumentation
 */

export type { ErrorCode, EventFrame, TopicEventFrame, UserEventFrame } from '@fanout/protocol';
export { ERROR_CODES, isErrorCode } from '@fanout/protocol';
export {
  type ClientEvents,
  type ClientOptions,
  type ConnectionState,
  FanoutClient,
  FanoutRequestError,
  type SocketFactory,
  type SocketLike,
} from './client.js';
