/**
 * The fanout publisher SDK for services: publish events, and mint tokens for deployments that
 * verify them with a shared secret.
 *
 * @packageDocumentation
 */
export {
  type Notification,
  PublishError,
  type PublishErrorCode,
  Publisher,
  type PublisherOptions,
} from './publisher.js';
export { type SignTokenInput, signToken } from './token.js';
