import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NonRetryableError } from '@conveyor/contracts';
import { EgressGuard } from './egress-guard.js';
import { parseAddressRules, parseHostRules } from './egress-policy.js';

describe('the egress guard', () => {
  const dns: Record<string, string[]> = {
    'api.example.com': ['93.184.216.34'],
    'mixed.example.com': ['10.0.0.7', '93.184.216.35'],
    'inside.example.com': ['10.0.0.7', 'fd00::7'],
    'rebind.example.com': ['::ffff:169.254.169.254'],
    localhost: ['127.0.0.1', '::1'],
  };
  const guard = (hosts: string, allowPrivate = '', logger?: { warn(details: object): void }) =>
    new EgressGuard(
      { allowedHosts: parseHostRules(hosts).rules, allowPrivate: parseAddressRules(allowPrivate).rules, hostsSetting: 'HOSTS', logger },
      async (host) => (dns[host] ?? [host]).map((address) => ({ address })),
    );

  const cases: [url: string, hosts: string, allowPrivate: string, outcome: string][] = [
    ['https://api.example.com/x', 'api.example.com', '', '93.184.216.34'],
    ['https://API.example.com./x', 'api.example.com', '', '93.184.216.34'],
    ['https://user:pw@api.example.com/', 'api.example.com', '', 'url_credentials'],
    ['https://other.example.com/', 'api.example.com', '', 'host_not_allowed'],
    ['http://api.example.com:8080/', 'api.example.com', '', 'port_not_allowed'],
    ['http://api.example.com:8080/', 'api.example.com:8080', '', '93.184.216.34'],
    ['https://mixed.example.com/', '*.example.com', '', '93.184.216.35'],
    ['https://inside.example.com/', '*.example.com', '', 'address_not_allowed'],
    ['https://inside.example.com/', '*.example.com', '10.0.0.0/8', '10.0.0.7'],
    ['https://inside.example.com/', '*.example.com', '10.0.0.0/8:8443', 'address_not_allowed'],
    ['https://inside.example.com/', '*.example.com', '[fd00::/8]:443', 'fd00::7'],
    ['https://rebind.example.com/', '*.example.com', '', 'address_not_allowed'],
    ['http://localhost/', 'localhost', 'localhost', 'address_not_allowed'],
    ['http://localhost:9000/', 'localhost:9000', '127.0.0.1', '127.0.0.1'],
    ['http://localhost:9000/', 'localhost:9000', '::1:9000', 'address_not_allowed'],
    ['http://localhost:9000/', 'localhost:9000', '[::1]:9000', '::1'],
    ['http://127.0.0.1/', '127.0.0.1', '', 'address_not_allowed'],
    ['http://[::ffff:7f00:1]/', '::ffff:7f00:1', '127.0.0.1', '127.0.0.1'],
    ['http://2130706433/', '127.0.0.1', '127.0.0.1', '127.0.0.1'],
  ];
  for (const [url, hosts, allowPrivate, outcome] of cases) {
    it(`${url} with hosts "${hosts}" and private "${allowPrivate}" → ${outcome}`, async () => {
      const checked = guard(hosts, allowPrivate).check(new URL(url));
      if (/^[a-z_]+$/.test(outcome)) {
        await assert.rejects(checked, (error: Error) => error instanceof NonRetryableError && error.code === outcome);
      } else {
        assert.equal((await checked).address, outcome);
      }
    });
  }

  it('logs every refused address and why, and keeps them out of the error (which a tenant reads)', async () => {
    const logged: object[] = [];
    const logger = { warn: (details: object) => void logged.push(details) };
    await assert.rejects(guard('localhost', '', logger).check(new URL('http://localhost/')), {
      message: 'Refused by the egress policy: localhost resolves only to addresses that are not public',
    });
    assert.deepEqual(logged, [{ host: 'localhost', addresses: '127.0.0.1 (loopback), ::1 (loopback)' }]);
  });
});
