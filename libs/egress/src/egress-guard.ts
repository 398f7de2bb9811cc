import { lookup } from 'node:dns/promises';
import { isIPv4 } from 'node:net';
import { NonRetryableError } from '@conveyor/contracts';
import { AddressAllowList, hostMatches, portMatches, type EgressPolicy } from './egress-policy.js';
import { canonicalAddress, refusedRangeOf } from './ip-ranges.js';

/** A call that passed the guard: its URL (whose host name stays the Host and the TLS name) and the one address it may dial. */
export interface EgressTarget {
  url: URL;
  host: string;
  port: number;
  address: string;
  family: 4 | 6;
}

/** Every address a host name resolves to (node's `dns.lookup`, all of them). */
export type ResolveHost = (host: string) => Promise<{ address: string }[]>;

const resolveAll: ResolveHost = (host) => lookup(host, { all: true });

/**
 * Decides where an outbound call may go: its host name must be listed (with its port), and it is
 * resolved once; addresses that are not public are dropped unless listed by address (a host name
 * never unlocks one), and the call is pinned to the first address left, so a second DNS answer cannot
 * send it elsewhere. Every refusal is final (`NonRetryableError`), with a code saying which rule.
 */
export class EgressGuard {
  private readonly allowList: AddressAllowList;

  constructor(
    private readonly policy: EgressPolicy & {
      /** The setting to name when a host is not listed. */
      hostsSetting: string;
      /** Where a refused host's resolved addresses are logged (they are kept out of the error). */
      logger?: { warn(details: object, message: string): void };
    },
    private readonly resolve: ResolveHost = resolveAll,
  ) {
    this.allowList = new AddressAllowList(policy.allowPrivate);
  }

  async check(url: URL): Promise<EgressTarget> {
    if (url.username || url.password) {
      throw new NonRetryableError('The URL carries credentials: send them in a header instead', 'url_credentials');
    }
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    const rules = this.policy.allowedHosts.filter((rule) => hostMatches(rule, host));
    if (rules.length === 0) throw new NonRetryableError(`Host ${host} is not in ${this.policy.hostsSetting}`, 'host_not_allowed');
    if (!rules.some((rule) => portMatches(rule, port))) {
      throw new NonRetryableError(
        `Port ${port} of ${host} is not allowed: list ${host}:${port} in ${this.policy.hostsSetting} (an entry without a port allows 80 and 443)`,
        'port_not_allowed',
      );
    }
    const verdicts = (await this.resolve(host)).map(({ address }) => {
      const canonical = canonicalAddress(address);
      return { address: canonical, refused: this.allowList.allows(canonical, port) ? null : refusedRangeOf(canonical) };
    });
    const usable = verdicts.find((verdict) => verdict.refused === null);
    if (!usable) {
      // The addresses show the inside of the network: the operator's log gets them, the caller (a
      // tenant, who reads the error) only the rule.
      const listed = verdicts.map((verdict) => `${verdict.address} (${verdict.refused})`).join(', ');
      this.policy.logger?.warn({ host, addresses: listed }, 'egress refused: the host resolves only to addresses that are not public; list them in EGRESS_ALLOW_PRIVATE to allow them');
      throw new NonRetryableError(`Refused by the egress policy: ${host} resolves only to addresses that are not public`, 'address_not_allowed');
    }
    return { url, host, port, address: usable.address, family: isIPv4(usable.address) ? 4 : 6 };
  }
}
