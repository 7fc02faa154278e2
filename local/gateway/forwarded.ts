/**
 * The client's address behind reverse proxies. API Gateway reports the TCP peer of the connection it
 * accepted as `identity.sourceIp` ("The source IP address of the TCP connection making the request to
 * API Gateway", AWS page "WebSocket API mapping template reference for API Gateway") and appends that
 * peer to `X-Forwarded-For`, so behind a proxy it reports the proxy. Locally, the gateway can stand
 * behind a proxy of one's own (Apache in deploy/apache): when the peer is one of the configured trusted
 * proxies, the address that proxy put in `X-Forwarded-For` is the client, so the authorizer, `$connect`
 * and the connection rows see who is really connected.
 */
import { BlockList, isIP } from 'node:net';

/** Which peers may vouch for a client address; built once from the gateway's options. */
export interface TrustedProxies {
  /** True when `address` (an IP address, IPv4-mapped IPv6 included) is a trusted proxy. */
  trusts(address: string): boolean;
  /** False for the default (no trusted proxies): `X-Forwarded-For` is then never read. */
  readonly any: boolean;
}

/** `::ffff:127.0.0.1` → `127.0.0.1`: Node reports IPv4 peers of a dual-stack socket that way. */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] ?? address;
}

/**
 * Parses the trusted proxies: IP addresses (`127.0.0.1`, `::1`) and CIDR ranges (`10.0.0.0/8`,
 * `fd00::/8`). Throws on anything else, so a typo never silently trusts nobody or everybody.
 */
export function parseTrustedProxies(entries: readonly string[] = []): TrustedProxies {
  const list = new BlockList();
  for (const raw of entries) {
    const entry = raw.trim();
    const [rawAddress = '', prefix, extra] = entry.split('/');
    const address = normalizeAddress(rawAddress);
    const family = isIP(address);
    const bits = prefix === undefined ? undefined : Number(prefix);
    const maxBits = family === 6 ? 128 : 32;
    const validPrefix =
      prefix === undefined || (/^\d{1,3}$/.test(prefix) && bits !== undefined && bits <= maxBits);
    if (family === 0 || extra !== undefined || !validPrefix) {
      throw new Error(`invalid trusted proxy "${raw}": expected an IP address or a CIDR range`);
    }
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, bits, type);
  }
  return {
    any: entries.length > 0,
    trusts: (address) => {
      const normalized = normalizeAddress(address);
      const family = isIP(normalized);
      return family !== 0 && list.check(normalized, family === 6 ? 'ipv6' : 'ipv4');
    },
  };
}

/** The entries of one or more `X-Forwarded-For` values, in order (client first, last proxy last). */
export function forwardedChain(header: string | string[] | undefined): string[] {
  const values = header === undefined ? [] : Array.isArray(header) ? header : [header];
  return values
    .flatMap((value) => value.split(','))
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
}

/**
 * The client's address: the TCP peer unless it is a trusted proxy, in which case the walk goes on
 * from the right of `X-Forwarded-For` (each proxy appends the address it received from), past every
 * trusted hop, to the first address not trusted. Entries left of that one were written by whoever the
 * untrusted client is, so they are never believed. An entry that is not an IP address ends the walk
 * at the trusted proxy that passed it on: a proxy of one's own that writes garbage is misconfigured,
 * and its own address is the last one known to be true.
 */
export function clientAddress(peer: string, chain: readonly string[], trusted: TrustedProxies): string {
  let address = normalizeAddress(peer);
  for (let index = chain.length - 1; index >= 0 && trusted.trusts(address); index -= 1) {
    const hop = normalizeAddress(chain[index] ?? '');
    if (isIP(hop) === 0) break;
    address = hop;
  }
  return address;
}
