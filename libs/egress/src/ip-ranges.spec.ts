import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalAddress, refusedRangeOf } from './ip-ranges.js';

describe('address classification', () => {
  const cases: [address: string, range: string | null][] = [
    ['8.8.8.8', null],
    ['1.1.1.1', null],
    ['2606:4700:4700::1111', null],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', null],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'shared (CGNAT)'],
    ['100.100.100.200', 'cloud metadata'],
    ['169.254.169.254', 'cloud metadata'],
    ['168.63.129.16', 'cloud metadata'],
    ['fd00:ec2::254', 'cloud metadata'],
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fd12:3456::1', 'unique local'],
    ['fc00::1', 'unique local'],
    ['fec0::1', 'unique local'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['2001:0:4136:e378::1', 'reserved'],
    ['::127.0.0.1', 'reserved'],
    ['::ffff:0:7f00:1', 'reserved'],
    ['64:ff9b::7f00:1', 'loopback (127.0.0.1 inside IPv6)'],
    ['64:ff9b::a9fe:a9fe', 'cloud metadata (169.254.169.254 inside IPv6)'],
    ['64:ff9b::808:808', null],
    ['2002:a00:1::1', 'private (10.0.0.1 inside IPv6)'],
    ['2002:808:808::1', null],
  ];
  for (const [address, range] of cases) {
    it(`${address} is ${range ?? 'public'}`, () => assert.equal(refusedRangeOf(canonicalAddress(address)), range));
  }

  const mapped: [address: string, canonical: string][] = [
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['::ffff:7f00:1', '127.0.0.1'],
    ['0:0:0:0:0:FFFF:A9FE:A9FE', '169.254.169.254'],
    ['::FFFF:8.8.8.8', '8.8.8.8'],
    ['fe80::1%eth0', 'fe80::1'],
    ['2001:DB8::1', '2001:db8::1'],
    ['10.0.0.1', '10.0.0.1'],
  ];
  for (const [address, canonical] of mapped) {
    it(`${address} is dialled and judged as ${canonical}`, () => assert.equal(canonicalAddress(address), canonical));
  }
});
