/*
 * How Conveyor signs the webhooks it sends and checks the ones it receives:
 *
 *   Conveyor-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed by the secret>
 *
 * One `v1` per secret in use: while a rotated secret's overlap lasts, a delivery carries one for the
 * new secret and one for the old, so a receiver holding either accepts it. The timestamp is signed,
 * so a captured delivery cannot be replayed once it is older than the tolerance. Web Crypto only: the
 * SDK runs in browsers and on servers alike.
 */

export const signatureHeader = 'Conveyor-Signature';
/** The id of one delivery: the same on every attempt of it, so a receiver can drop repeats. */
export const deliveryHeader = 'Conveyor-Delivery';
/** How old a signed timestamp may be (either way) before `verifyWebhook` refuses it. */
export const signatureToleranceSeconds = 300;

const encoder = new TextEncoder();

/** The HMAC of "<t>.<body>": a body given as bytes is signed as it is (not decoded, which would drop a BOM or replace invalid UTF-8). */
async function hmacHex(secret: string, t: number | string, body: string | Uint8Array): Promise<string> {
  const bytes = typeof body === 'string' ? encoder.encode(body) : body;
  const head = encoder.encode(`${t}.`);
  const payload = new Uint8Array(head.length + bytes.length);
  payload.set(head);
  payload.set(bytes, head.length);
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, payload));
  return Array.from(mac, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** The `Conveyor-Signature` value of `body`, with one signature per secret (newest first). */
export async function signWebhook(body: string | Uint8Array, secrets: readonly string[], at: number = Date.now()): Promise<string> {
  const t = Math.floor(at / 1000);
  const signatures = await Promise.all(secrets.map((secret) => hmacHex(secret, t, body)));
  return [`t=${t}`, ...signatures.map((signature) => `v1=${signature}`)].join(',');
}

/**
 * Whether `header` (a `Conveyor-Signature` value) signs exactly this raw `body` with `secret`, at a
 * time within `toleranceSeconds` of `now`. Pass the body as received, before any JSON parsing.
 */
export async function verifyWebhook(
  body: string | Uint8Array,
  header: string | null | undefined,
  secret: string,
  { toleranceSeconds = signatureToleranceSeconds, now = Date.now() }: { toleranceSeconds?: number; now?: number } = {},
): Promise<boolean> {
  const parts = (header ?? '').split(',').map((part) => part.trim().split('='));
  const t = parts.find(([name]) => name === 't')?.[1];
  const signatures = parts.filter(([name, value]) => name === 'v1' && value).map(([, value]) => value!.toLowerCase());
  if (!t || !/^\d{1,12}$/.test(t) || signatures.length === 0) return false;
  if (Math.abs(now / 1000 - Number(t)) > toleranceSeconds) return false;
  const expected = await hmacHex(secret, t, body);
  // Compared whole, in constant time: a signature that shares a prefix learns nothing.
  return signatures.some((signature) => signature.length === expected.length && [...signature].reduce((diff, char, i) => diff | (char.charCodeAt(0) ^ expected.charCodeAt(i)), 0) === 0);
}
