import { BlockList, isIPv4 } from 'node:net';

type Family = 'ipv4' | 'ipv6';

/**
 * Ranges an outbound call never reaches on its own (IANA special-purpose registries), by the name an
 * error shows; the first match names an address, so the specific ones come first.
 */
const refusedRanges: [name: string, cidrs: string[]][] = [
  ['cloud metadata', ['169.254.169.254/32', '168.63.129.16/32', '100.100.100.200/32', 'fd00:ec2::254/128']],
  ['unspecified', ['0.0.0.0/8', '::/128']],
  ['loopback', ['127.0.0.0/8', '::1/128']],
  ['private', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '64:ff9b:1::/48']],
  ['shared (CGNAT)', ['100.64.0.0/10']],
  ['link-local', ['169.254.0.0/16', 'fe80::/10']],
  ['unique local', ['fc00::/7', 'fec0::/10']],
  ['multicast', ['224.0.0.0/4', 'ff00::/8']],
  [
    'reserved',
    [
      '192.0.0.0/24', '192.0.2.0/24', '192.88.99.0/24', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '240.0.0.0/4',
      // IPv4-compatible and IPv4-translated forms, discard-only, Teredo and IETF assignments, documentation.
      '::/96', '::ffff:0:0:0/96', '100::/64', '2001::/23', '2001:db8::/32', '3fff::/20',
    ],
  ],
];

const refusedLists = refusedRanges.map(([name, cidrs]) => {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address, prefix] = cidr.split('/');
    list.addSubnet(address, Number(prefix), familyOf(address));
  }
  return { name, list };
});

export function familyOf(address: string): Family {
  return isIPv4(address) ? 'ipv4' : 'ipv6';
}

/** An address as it is dialled and compared: without a zone, an IPv4-mapped IPv6 address as its IPv4 form. */
export function canonicalAddress(address: string): string {
  const ip = address.replace(/%.*$/, '');
  if (isIPv4(ip)) return ip;
  const words = ipv6Words(ip);
  return words.slice(0, 5).every((word) => word === 0) && words[5] === 0xffff ? ipv4Of(words[6], words[7]) : ip.toLowerCase();
}

/**
 * Why an address (canonical form) is not public — `'loopback'`, `'private'`, `'cloud metadata'` … —
 * or `null` when it is. IPv6 forms that carry an IPv4 address (NAT64, 6to4) are judged by it too.
 */
export function refusedRangeOf(address: string): string | null {
  const family = familyOf(address);
  const match = refusedLists.find(({ list }) => list.check(address, family));
  if (match) return match.name;
  const embedded = family === 'ipv6' ? embeddedIPv4(ipv6Words(address)) : null;
  const inner = embedded === null ? null : refusedRangeOf(embedded);
  return inner === null ? null : `${inner} (${embedded} inside IPv6)`;
}

/** The eight 16-bit words of a valid IPv6 address (a trailing dotted quad included). */
function ipv6Words(address: string): number[] {
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  const [a, b, c, d] = dotted ? dotted.slice(1).map(Number) : [];
  const text = dotted ? `${address.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}` : address;
  const parse = (part: string) => (part ? part.split(':').map((word) => parseInt(word, 16)) : []);
  const [head, tail] = text.split('::');
  if (tail === undefined) return parse(head);
  const [left, right] = [parse(head), parse(tail)];
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/** The IPv4 address inside a NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address. */
function embeddedIPv4(words: number[]): string | null {
  if (words[0] === 0x64 && words[1] === 0xff9b && words.slice(2, 6).every((word) => word === 0)) return ipv4Of(words[6], words[7]);
  if (words[0] === 0x2002) return ipv4Of(words[1], words[2]);
  return null;
}

function ipv4Of(high: number, low: number): string {
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}
