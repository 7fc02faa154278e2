import { BackendError } from '../../../shared/backend/errors';
import { GatewayProof } from '../../../shared/backend/proof';

const SECRET = 'proof-0123456789abcdef0123456789abcdef';

function refusal(run: () => void): { code: string; status: number } {
  try {
    run();
  } catch (err) {
    if (err instanceof BackendError) return { code: err.code, status: err.status };
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('the gateway proof', () => {
  const proof = new GatewayProof(SECRET);

  it('accepts the secret itself', () => {
    expect(() => proof.check(SECRET)).not.toThrow();
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
  ])('refuses %s as proof_missing (403)', (_what, value) => {
    expect(refusal(() => proof.check(value))).toEqual({ code: 'proof_missing', status: 403 });
  });

  it.each([
    ['another secret', 'proof-0123456789abcdef0123456789abcdeX'],
    ['a prefix of the secret', SECRET.slice(0, -1)],
    ['the secret and more', `${SECRET}0`],
    ['the secret with another case', SECRET.toUpperCase()],
    ['the secret repeated as two headers', [SECRET, SECRET]],
    ['the secret as one of two headers', [SECRET, 'x']],
  ])('refuses %s as proof_invalid (403)', (_what, value) => {
    expect(refusal(() => proof.check(value))).toEqual({ code: 'proof_invalid', status: 403 });
  });

  it.each([
    ['shorter than 32 characters', 'short-secret'],
    ['with a quote', `${SECRET}'`],
    ['empty', ''],
  ])('refuses to be built from a secret %s, without showing it', (_what, secret) => {
    expect(() => new GatewayProof(secret)).toThrow(RangeError);
    try {
      new GatewayProof(secret);
    } catch (err) {
      if (secret) expect(String(err)).not.toContain(secret);
    }
  });
});
