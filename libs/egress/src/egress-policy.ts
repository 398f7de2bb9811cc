import { BlockList, isIP } from 'node:net';
import { canonicalAddress, familyOf } from './ip-ranges.js';

/** A host name an outbound call may go to: exact, `*.domain` (its subdomains) or `*` (any); `port: null` = 80 and 443. */
export interface HostRule {
  host: string;
  port: number | null;
}

/** An address or CIDR that may be reached although not public; `port: null` = any port. */
export interface AddressRule {
  address: string;
  prefix: number;
  port: number | null;
}

/** A comma list parsed into rules, with the entries that are not valid. */
export interface ParsedList<R> {
  rules: R[];
  invalid: string[];
}

/** What outbound calls of one kind may reach: host names by list, addresses only when public or listed. */
export interface EgressPolicy {
  allowedHosts: readonly HostRule[];
  allowPrivate: readonly AddressRule[];
}

const hostName = /^(\*|(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?)$/;

/** `api.example.com`, `*.example.org`, `*`, each with an optional `:port`; IPv6 in brackets (`[::1]:8080`). */
export function parseHostRules(list: string): ParsedList<HostRule> {
  return parseList(list, (entry) => {
    const split = splitPort(entry.toLowerCase());
    if (!split) return null;
    const valid = hostName.test(split.body) || isIP(split.body);
    return valid ? { host: split.body.replace(/\.$/, ''), port: split.port } : null;
  });
}

/** IPs or CIDRs with an optional `:port`; IPv6 in brackets when it has a port (`[fd00::/8]:443`). */
export function parseAddressRules(list: string): ParsedList<AddressRule> {
  return parseList(list, (entry) => {
    const split = splitPort(entry);
    const [ip, prefixText, extra] = split?.body.split('/') ?? [];
    if (!split || extra !== undefined || !isIP(ip) || (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText))) return null;
    const address = canonicalAddress(ip);
    const maxPrefix = familyOf(address) === 'ipv4' ? 32 : 128;
    // A mapped IPv6 CIDR (::ffff:10.0.0.0/104) becomes the IPv4 CIDR it covers.
    const prefix = prefixText === undefined ? maxPrefix : Number(prefixText) - (familyOf(ip) === familyOf(address) ? 0 : 96);
    return prefix >= 0 && prefix <= maxPrefix ? { address, prefix, port: split.port } : null;
  });
}

/** Whether a host rule lets `host` (lower case, no trailing dot) be called on `port`. */
export function hostMatches(rule: HostRule, host: string): boolean {
  return rule.host === '*' || rule.host === host || (rule.host.startsWith('*.') && host.endsWith(rule.host.slice(1)));
}

export function portMatches(rule: HostRule, port: number): boolean {
  return rule.port === null ? port === 80 || port === 443 : rule.port === port;
}

/** The address rules as lookups: those for any port, and those per port. */
export class AddressAllowList {
  private readonly anyPort = new BlockList();
  private readonly byPort = new Map<number, BlockList>();

  constructor(rules: readonly AddressRule[]) {
    for (const rule of rules) {
      const list = rule.port === null ? this.anyPort : this.byPort.get(rule.port) ?? new BlockList();
      if (rule.port !== null) this.byPort.set(rule.port, list);
      list.addSubnet(rule.address, rule.prefix, familyOf(rule.address));
    }
  }

  /** Whether a canonical address is listed for `port`. */
  allows(address: string, port: number): boolean {
    const family = familyOf(address);
    return this.anyPort.check(address, family) || (this.byPort.get(port)?.check(address, family) ?? false);
  }
}

/** Splits a comma list and parses each entry, keeping the entries `parse` refuses to name them. */
export function parseList<R>(list: string, parse: (entry: string) => R | null): ParsedList<R> {
  const parsed: ParsedList<R> = { rules: [], invalid: [] };
  for (const entry of list.split(',').map((item) => item.trim()).filter(Boolean)) {
    const rule = parse(entry);
    if (rule) parsed.rules.push(rule);
    else parsed.invalid.push(entry);
  }
  return parsed;
}

/** `body:port`, `[v6]:port`, `[v6]` or a bare body (an unbracketed IPv6 address has no port). */
function splitPort(entry: string): { body: string; port: number | null } | null {
  const match = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(entry) ?? /^([^:[\]]+):(\d{1,5})$/.exec(entry);
  const [body, portText] = match ? [match[1], match[2]] : [entry, undefined];
  // Brackets are for IPv6 only, and only whole.
  if (match ? entry.startsWith('[') && !body.includes(':') : /[[\]]/.test(entry)) return null;
  const port = portText === undefined ? null : Number(portText);
  return port === null || (port >= 1 && port <= 65535) ? { body, port } : null;
}
