/**
 * Why the backend refused a call, with a stable code and the HTTP status it answers with. These are
 * refusals of the call itself (not from the gateway, mis-mapped, too large), never of a client's
 * frame: a frame's problems become error frames with the protocol's codes, as on the Lambda routes.
 */
export const BACKEND_ERRORS = {
  proof_missing: 403,
  proof_invalid: 403,
  not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  header_missing: 400,
  header_invalid: 400,
  route_mismatch: 400,
  internal: 500,
} as const;

export type BackendErrorCode = keyof typeof BACKEND_ERRORS;

export class BackendError extends Error {
  override readonly name = 'BackendError';
  readonly status: number;

  constructor(
    readonly code: BackendErrorCode,
    message: string,
  ) {
    super(message);
    this.status = BACKEND_ERRORS[code];
  }
}
