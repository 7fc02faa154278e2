/** A command line the CLI cannot run as given: exit code 2 and a hint to `fanout help`. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * What `fanout dlq` refuses or fails with, as a stable code scripts can match on (the message may
 * change; the code does not). Each is printed as `fanout dlq: <code>: <message>` with exit code 1.
 */
export type CommandErrorCode =
  | 'config_not_found'
  | 'config_invalid'
  | 'no_dlq_url'
  | 'no_events_dlq'
  | 'no_queue_url'
  | 'terraform_not_found'
  | 'terraform_failed'
  | 'terraform_output_missing'
  | 'no_credentials'
  | 'no_region'
  | 'dlq_unreachable'
  | 'dlq_not_found'
  | 'dlq_request_failed'
  | 'queue_unreachable'
  | 'queue_not_found'
  | 'queue_request_failed'
  | 'letter_not_found'
  | 'redrive_send_failed'
  | 'redrive_delete_failed';

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
