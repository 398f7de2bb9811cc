import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AddressAllowList, hostMatches, parseAddressRules, parseHostRules, portMatches } from './egress-policy.js';

describe('egress lists', () => {
  it('parses host entries, with ports, wildcards and bracketed IPv6', () => {
    assert.deepEqual(parseHostRules(' API.example.com ,*.example.org:8443, *, 127.0.0.1:9000, [::1]:8080, ::1, host.example.'), {
      rules: [
        { host: 'api.example.com', port: null },
        { host: '*.example.org', port: 8443 },
        { host: '*', port: null },
        { host: '127.0.0.1', port: 9000 },
        { host: '::1', port: 8080 },
        { host: '::1', port: null },
        { host: 'host.example', port: null },
      ],
      invalid: [],
    });
  });

  const badHosts = ['api.example.com:0', 'api.example.com:65536', 'api.example.com:', 'a b', 'http://x', 'ex*.com', '*.', '[example.com]:80', '[::1', '::1]:80', 'x:1:2'];
  for (const entry of badHosts) {
    it(`refuses the host entry ${JSON.stringify(entry)}`, () => assert.deepEqual(parseHostRules(entry), { rules: [], invalid: [entry] }));
  }

  const hostCases: [rule: string, host: string, port: number, allowed: boolean][] = [
    ['api.example.com', 'api.example.com', 443, true],
    ['api.example.com', 'api.example.com', 80, true],
    ['api.example.com', 'api.example.com', 8080, false],
    ['api.example.com:8080', 'api.example.com', 8080, true],
    ['api.example.com:8080', 'api.example.com', 443, false],
    ['*.example.com', 'a.b.example.com', 443, true],
    ['*.example.com', 'example.com', 443, false],
    ['*.example.com', 'evilexample.com', 443, false],
    ['api.example.com', 'evil-api.example.com', 443, false],
    ['*', 'anything.example', 80, true],
    ['*', 'anything.example', 22, false],
  ];
  for (const [entry, host, port, allowed] of hostCases) {
    it(`${entry} ${allowed ? 'allows' : 'does not allow'} ${host}:${port}`, () => {
      const [rule] = parseHostRules(entry).rules;
      assert.equal(hostMatches(rule, host) && portMatches(rule, port), allowed);
    });
  }

  it('parses address entries: IPs, CIDRs, ports, bracketed IPv6 and mapped forms', () => {
    assert.deepEqual(parseAddressRules('127.0.0.1, 10.0.0.0/8:8080, ::1, [fd00::/8]:443, [::1], ::ffff:10.0.0.0/104, FD00::1'), {
      rules: [
        { address: '127.0.0.1', prefix: 32, port: null },
        { address: '10.0.0.0', prefix: 8, port: 8080 },
        { address: '::1', prefix: 128, port: null },
        { address: 'fd00::', prefix: 8, port: 443 },
        { address: '::1', prefix: 128, port: null },
        { address: '10.0.0.0', prefix: 8, port: null },
        { address: 'fd00::1', prefix: 128, port: null },
      ],
      invalid: [],
    });
  });

  const badAddresses = ['localhost', '10.0.0.0/33', '::/129', '10.0.0.1:0', '10.0.0.1:70000', '10.0.0.0/8/8', '10.0.0.0/x', '::1:8080x', '[10.0.0.1]:80', '256.0.0.1', '::ffff:0:0/90'];
  for (const entry of badAddresses) {
    it(`refuses the address entry ${JSON.stringify(entry)}`, () => assert.deepEqual(parseAddressRules(entry), { rules: [], invalid: [entry] }));
  }

  const allowList = new AddressAllowList(parseAddressRules('127.0.0.1, 10.0.0.0/8:8080, [fd00::/8]:443').rules);
  const allowCases: [address: string, port: number, allowed: boolean][] = [
    ['127.0.0.1', 1, true],
    ['127.0.0.2', 80, false],
    ['10.9.9.9', 8080, true],
    ['10.9.9.9', 80, false],
    ['fd00::5', 443, true],
    ['fd00::5', 80, false],
    ['::1', 80, false],
  ];
  for (const [address, port, allowed] of allowCases) {
    it(`${address}:${port} is ${allowed ? '' : 'not '}listed`, () => assert.equal(allowList.allows(address, port), allowed));
  }
});
