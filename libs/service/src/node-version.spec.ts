import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tracingNeeds, unsupportedNode } from './node-version.js';

describe('unsupportedNode', () => {
  for (const version of ['24.22.3', '22.12.0', '23.0.0', '26.1.0']) {
    it(`runs on Node.js ${version}`, () => assert.equal(unsupportedNode(version), null));
  }
  for (const version of ['20.20.2', '22.11.0', '18.19.1']) {
    it(`refuses Node.js ${version}, saying what it needs`, () => assert.match(unsupportedNode(version) ?? '', /needs Node\.js 22\.12\.0 or newer .* this is /));
  }
  it('refuses tracing on a Node.js older than OpenTelemetry needs', () => {
    assert.match(unsupportedNode('22.14.0', tracingNeeds) ?? '', /^Tracing \(OTEL_EXPORTER_OTLP_ENDPOINT\) needs Node\.js 22\.15\.0 or newer/);
    assert.equal(unsupportedNode('22.15.0', tracingNeeds), null);
  });
});
