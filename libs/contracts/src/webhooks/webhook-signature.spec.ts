import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { signWebhook, verifyWebhook } from './webhook-signature.js';

const body = '{"type":"execution.completed","seq":3}';
const at = Date.UTC(2026, 10, 30, 12, 0, 0);

describe('webhook signatures', () => {
  it('is an HMAC-SHA256 of "<t>.<body>" in hex, as any language can compute it', async () => {
    const t = at / 1000;
    const expected = createHmac('sha256', 'whsec_one').update(`${t}.${body}`).digest('hex');
    assert.equal(await signWebhook(body, ['whsec_one'], at), `t=${t},v1=${expected}`);
  });

  it('verifies what it signed, from text or bytes', async () => {
    const header = await signWebhook(body, ['whsec_one'], at);
    assert.equal(await verifyWebhook(body, header, 'whsec_one', { now: at }), true);
    assert.equal(await verifyWebhook(new TextEncoder().encode(body), header, 'whsec_one', { now: at + 60_000 }), true);
  });

  it('signs bytes as they are: a byte-order mark and invalid UTF-8 are not decoded away', async () => {
    const t = at / 1000;
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"note":"'), Buffer.from([0xff]), Buffer.from('"}')]);
    const expected = createHmac('sha256', 'whsec_one').update(`${t}.`).update(bytes).digest('hex');
    assert.equal(await signWebhook(bytes, ['whsec_one'], at), `t=${t},v1=${expected}`);
    assert.equal(await verifyWebhook(new Uint8Array(bytes), `t=${t},v1=${expected}`, 'whsec_one', { now: at }), true);
    assert.equal(await verifyWebhook(new TextDecoder().decode(bytes), `t=${t},v1=${expected}`, 'whsec_one', { now: at }), false);
  });

  it('refuses another body, another secret, a stale or future timestamp, and malformed headers', async () => {
    const header = await signWebhook(body, ['whsec_one'], at);
    assert.equal(await verifyWebhook(`${body} `, header, 'whsec_one', { now: at }), false);
    assert.equal(await verifyWebhook(body, header, 'whsec_two', { now: at }), false);
    assert.equal(await verifyWebhook(body, header, 'whsec_one', { now: at + 301_000 }), false);
    assert.equal(await verifyWebhook(body, header, 'whsec_one', { now: at - 301_000 }), false);
    const [t, v1] = header.split(',');
    for (const bad of [undefined, '', t!, v1!, `t=abc,${v1}`, `${t},v1=`, `${t},v1=${v1!.slice(3, -1)}`]) {
      assert.equal(await verifyWebhook(body, bad, 'whsec_one', { now: at }), false, `header ${bad}`);
    }
  });

  it('signs with every secret of a rotation, so either verifies', async () => {
    const header = await signWebhook(body, ['whsec_new', 'whsec_old'], at);
    assert.equal(header.split(',').length, 3);
    assert.equal(await verifyWebhook(body, header, 'whsec_new', { now: at }), true);
    assert.equal(await verifyWebhook(body, header, 'whsec_old', { now: at }), true);
    assert.equal(await verifyWebhook(body, header, 'whsec_other', { now: at }), false);
  });
});
