/**
 * Stable error codes of `{"type":"error","code":...}` replies. They are part of the public
 * contract: new codes may be added, existing ones are never renamed or reused.
 */
export const ERROR_CODES = [
  'bad_request',
  'unknown_action',
  'invalid_topic',
  'forbidden',
  'too_many_subscriptions',
  'internal',
] as const;

/** One of the stable error codes. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Whether `value` is one of the stable error codes. */
export const isErrorCode = (value: unknown): value is ErrorCode =>
  typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
