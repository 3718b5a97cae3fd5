// Which hosts are not on the public internet, for every outbound request Switchboard makes on a
// user's behalf (the http_get tool, outbound webhooks): one set of rules, so an address refused
// in one place is refused in the other.

/** Lower-case, without IPv6 brackets or a trailing dot: the form hosts are compared in. */
export function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

function parseIpv4(host: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const parts = m.slice(1, 5).map(Number);
  return parts.every((p) => p <= 255) ? parts : null;
}

/** `[a, b, c, d]` inside `prefix/bits`, both dotted quads as numbers. */
function inIpv4Block(
  parts: readonly number[],
  block: readonly [number, number, number, number, number],
): boolean {
  const value = parts.reduce((acc, p) => acc * 256 + p, 0);
  const [a, b, c, d, bits] = block;
  const base = ((a * 256 + b) * 256 + c) * 256 + d;
  const size = 2 ** (32 - bits);
  return value >= base && value < base + size;
}

/**
 * IPv4 blocks that are not global unicast (IANA's special-purpose registry, RFC 6890 and its
 * updates, plus multicast and the reserved class E): nothing Switchboard calls on a user's
 * behalf may live there. AS112 and AMT anycast blocks are global and left out.
 */
const NON_PUBLIC_IPV4: readonly (readonly [number, number, number, number, number])[] = [
  [0, 0, 0, 0, 8], // "this network"
  [10, 0, 0, 0, 8], // private
  [100, 64, 0, 0, 10], // carrier-grade NAT
  [127, 0, 0, 0, 8], // loopback
  [169, 254, 0, 0, 16], // link-local (cloud metadata lives here)
  [172, 16, 0, 0, 12], // private
  [192, 0, 0, 0, 24], // IETF protocol assignments
  [192, 0, 2, 0, 24], // documentation (TEST-NET-1)
  [192, 88, 99, 0, 24], // deprecated 6to4 relay anycast
  [192, 168, 0, 0, 16], // private
  [198, 18, 0, 0, 15], // benchmarking
  [198, 51, 100, 0, 24], // documentation (TEST-NET-2)
  [203, 0, 113, 0, 24], // documentation (TEST-NET-3)
  [224, 0, 0, 0, 4], // multicast
  [240, 0, 0, 0, 4], // reserved, and 255.255.255.255 (broadcast)
];

function isNonPublicIpv4(parts: readonly number[]): boolean {
  return NON_PUBLIC_IPV4.some((block) => inIpv4Block(parts, block));
}

/** Parses the compressed hex form the URL parser produces (it never emits dotted IPv4 tails). */
function parseIpv6(host: string): number[] | null {
  if (!host.includes(':')) return null;
  const halves = host.split('::');
  if (halves.length > 2) return null;
  const toGroups = (s: string) => (s === '' ? [] : s.split(':'));
  const head = toGroups(halves[0] ?? '');
  const tail = halves.length === 2 ? toGroups(halves[1] ?? '') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  const parsed = groups.map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? Number.parseInt(g, 16) : Number.NaN));
  return parsed.some(Number.isNaN) ? null : parsed;
}

const ipv4Of = (hi: number, lo: number) => [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff];

/**
 * IPv6 is judged the other way round: only global unicast space (2000::/3) is public, less its
 * special blocks, so multicast (ff00::/8), unique-local (fc00::/7), link-local (fe80::/10),
 * site-local (fec0::/10), discard (100::/64) and everything unassigned are refused without a
 * rule each. Addresses that carry an IPv4 address and reach it (IPv4-compatible ::/96,
 * IPv4-mapped ::ffff:0:0/96, 6to4 2002::/16, NAT64 64:ff9b::/96 and the local-use
 * 64:ff9b:1::/48) are as public as that IPv4 address, so `[::127.0.0.1]` (::7f00:1) is loopback.
 */
function isNonPublicIpv6(g: readonly number[]): boolean {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  const zero = (...groups: number[]) => groups.every((x) => x === 0);
  // ::/96 (IPv4-compatible; :: and ::1 judge as 0.0.0.0/8) and ::ffff:0:0/96 (IPv4-mapped).
  if (zero(g0, g1, g2, g3, g4) && (g5 === 0 || g5 === 0xffff)) return isNonPublicIpv4(ipv4Of(g6, g7));
  // NAT64: the well-known 64:ff9b::/96, and the local-use 64:ff9b:1::/48 with the IPv4 address
  // in the last 32 bits (any other layout cannot be judged here, so it is refused).
  if (g0 === 0x64 && g1 === 0xff9b && (g2 === 0 || g2 === 1)) {
    return !zero(g3, g4, g5) || isNonPublicIpv4(ipv4Of(g6, g7));
  }
  if ((g0 & 0xe000) !== 0x2000) return true; // outside global unicast 2000::/3
  if (g0 === 0x2002) return isNonPublicIpv4(ipv4Of(g1, g2)); // 6to4 embeds its IPv4 in bits 16-47
  if (g0 === 0x2001 && g1 < 0x200) return true; // 2001::/23 IETF protocol assignments (Teredo, benchmarking 2001:2::/48, ORCHID)
  if (g0 === 0x2001 && g1 === 0xdb8) return true; // 2001:db8::/32 documentation
  if (g0 === 0x3fff && g1 < 0x1000) return true; // 3fff::/20 documentation
  return false;
}

/** True for loopback addresses and `localhost` names: the only hosts `http` (not https) may reach. */
export function isLoopbackHost(hostname: string): boolean {
  const host = normalizeHost(hostname);
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const v4 = parseIpv4(host);
  if (v4) return v4[0] === 127;
  const v6 = parseIpv6(host);
  if (!v6) return false;
  if (v6.slice(0, 7).every((x) => x === 0) && v6[7] === 1) return true;
  return v6.slice(0, 5).every((x) => x === 0) && v6[5] === 0xffff && (v6[6] ?? 0) >> 8 === 127;
}

/**
 * True for `localhost` names and for every literal address that is not global unicast: loopback,
 * private, link-local, unspecified, reserved, multicast, broadcast, documentation and benchmarking
 * ranges, and IPv6 forms that embed such an IPv4 address.
 * Names that merely resolve to such addresses cannot be checked here (workerd exposes no DNS), which
 * is acceptable because Workers' own fetch cannot reach private networks.
 */
export function isPrivateHost(hostname: string): boolean {
  const host = normalizeHost(hostname);
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const v4 = parseIpv4(host);
  if (v4) return isNonPublicIpv4(v4);
  const v6 = parseIpv6(host);
  if (v6) return isNonPublicIpv6(v6);
  return false;
}
