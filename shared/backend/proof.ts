import { createHash, timingSafeEqual } from 'node:crypto';
import { PROOF_HEADER, PROOF_PATTERN } from './contract.js';
import { BackendError } from './errors.js';

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * The check that a call came through the gateway: its proof header equals the shared secret. Both
 * sides are hashed first, so the comparison is constant-time whatever the given value's length
 * (timingSafeEqual needs equal lengths, and comparing lengths first would tell them).
 */
export class GatewayProof {
  private readonly expected: Buffer;

  constructor(secret: string) {
    if (!PROOF_PATTERN.test(secret)) {
      throw new RangeError(
        'the gateway proof must be 32 to 512 characters of A-Z a-z 0-9 . _ ~ + / = - (it travels as a quoted static value of the integration)',
      );
    }
    this.expected = digest(secret);
  }

  /** Throws `proof_missing` or `proof_invalid` (403) unless `value` is the secret. */
  check(value: string | readonly string[] | undefined): void {
    if (value === undefined || value === '') {
      throw new BackendError('proof_missing', `the call carries no ${PROOF_HEADER} header`);
    }
    // A repeated header is never the secret: node joins unknown duplicates, or lists them.
    const given = typeof value === 'string' ? value : value.join(', ');
    if (!timingSafeEqual(digest(given), this.expected)) {
      throw new BackendError('proof_invalid', `the call's ${PROOF_HEADER} header is not the gateway's`);
    }
  }
}
