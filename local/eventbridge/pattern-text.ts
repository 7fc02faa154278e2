/**
 * String-shaped operators of event patterns that need more than `startsWith`: wildcards and CIDR
 * blocks. Rules and messages follow aws/event-ruler, the matcher EventBridge documents its syntax
 * against (the aws/event-ruler README); the quoted messages are the ones AWS returns (recorded by
 * localstack/localstack tests/aws/services/events/test_events_patterns.snapshot.json).
 */
import { BlockList, isIP } from 'node:net';

/** Thrown for a malformed operand; the caller adds the "Event pattern is not valid" frame and the path. */
export class PatternSyntaxError extends Error {
  override readonly name = 'PatternSyntaxError';
}

/**
 * `*` matches any run of characters (including none); `\*` is a literal star and `\\` a literal
 * backslash. A backslash before anything else, a trailing backslash and two unescaped stars in a row
 * are refused, as the event-ruler README states.
 */
export function compileWildcard(pattern: string): RegExp {
  let source = '';
  let previousWasStar = false;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern.charAt(i);
    if (char === '\\') {
      const next = pattern.charAt(i + 1);
      if (next !== '*' && next !== '\\') {
        throw new PatternSyntaxError(`Invalid escape character at pos ${i}: only \\* and \\\\ are allowed`);
      }
      source += escapeRegExp(next);
      previousWasStar = false;
      i++;
    } else if (char === '*') {
      // AWS's own wording; the position is that of the second star.
      if (previousWasStar) throw new PatternSyntaxError(`Consecutive wildcard characters at pos ${i}`);
      source += '.*';
      previousWasStar = true;
    } else {
      source += escapeRegExp(char);
      previousWasStar = false;
    }
  }
  // `s`: a star also spans newlines, since event strings may contain them.
  return new RegExp(`^${source}$`, 's');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

export type IpFamily = 'ipv4' | 'ipv6';

/** A compiled `cidr` operand: tests one event string. IPv4 and IPv6 blocks each match their own family. */
export function compileCidr(cidr: string): (value: string) => boolean {
  const parts = cidr.split('/');
  const [address, bits] = parts;
  if (parts.length !== 2 || address === undefined || bits === undefined) {
    throw new PatternSyntaxError("Malformed CIDR, one '/' required");
  }
  if (!/^\d+$/.test(bits)) throw new PatternSyntaxError('Malformed CIDR, mask bits must be an integer');
  const version = isIP(address);
  if (version === 0) throw new PatternSyntaxError(`Nonstandard IP address: ${address}`);
  const family: IpFamily = version === 4 ? 'ipv4' : 'ipv6';
  const prefix = Number(bits);
  const maxBits = family === 'ipv4' ? 32 : 128;
  if (prefix > maxBits) {
    throw new PatternSyntaxError(`Malformed CIDR, mask bits must be between 0 and ${maxBits}`);
  }
  const block = new BlockList();
  block.addSubnet(address, prefix, family);
  return (value) => {
    const valueVersion = isIP(value);
    if (valueVersion === 0) return false;
    const valueFamily: IpFamily = valueVersion === 4 ? 'ipv4' : 'ipv6';
    return valueFamily === family && block.check(value, family);
  };
}
