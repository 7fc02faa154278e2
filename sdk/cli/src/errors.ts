/**
 * Why a command line cannot run as given, as a stable code scripts can match on (the message may
 * change; the code does not). Each is printed as `fanout <command>: <code>: <message>`, then a hint,
 * with exit code 2.
 */
export const USAGE_ERROR_CODES = [
  'unknown_command',
  'unknown_option',
  'missing_option',
  'missing_argument',
  'unexpected_argument',
  'conflicting_options',
  'invalid_value',
  'invalid_pattern',
  'invalid_data',
  'no_secret',
  'no_event_bus',
] as const;
export type UsageErrorCode = (typeof USAGE_ERROR_CODES)[number];

/** A command line the CLI cannot run as given: exit code 2 and a hint to the command's help. */
export class UsageError extends Error {
  override readonly name = 'UsageError';

  constructor(
    readonly code: UsageErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * What a command refuses or fails with, as a stable code scripts can match on (the message may
 * change; the code does not). Each is printed as `fanout <command>: <code>: <message>` with exit
 * code 1. What no code below names is printed as `<command>_failed` (`publish_failed`, ...).
 */
export const COMMAND_ERROR_CODES = [
  'config_not_found',
  'config_invalid',
  'config_stale',
  'data_file_unreadable',
  'no_dlq_url',
  'no_events_dlq',
  'no_queue_url',
  'terraform_not_found',
  'terraform_failed',
  'terraform_output_missing',
  'no_credentials',
  'no_region',
  'dlq_unreachable',
  'dlq_not_found',
  'dlq_request_failed',
  'queue_unreachable',
  'queue_not_found',
  'queue_request_failed',
  'letter_not_found',
  'redrive_send_failed',
  'redrive_delete_failed',
  'local_runtime_missing',
  'backend_missing',
  'connect_failed',
  'subscribe_failed',
] as const;
export type CommandErrorCode = (typeof COMMAND_ERROR_CODES)[number];

/** A command that could not do its work: exit code 1, with a stable code. */
export class CommandError extends Error {
  override readonly name = 'CommandError';

  constructor(
    readonly code: CommandErrorCode,
    message: string,
  ) {
    super(message);
  }
}
