/**
 * The fanout wire protocol, shared by the client SDK, the publisher SDK and the platform: the
 * frames both ways, the published event's shape, the stable error codes, the limits and the topic
 * rules. The package README lists the modules; the repository README has the protocol in prose.
 *
 * @packageDocumentation
 */
export * from './backoff.js';
export * from './endpoints.js';
export * from './errors.js';
export * from './event.js';
export * from './frames.js';
export * from './limits.js';
export * from './positions.js';
export * from './topics.js';
export * from './validate.js';
