import { describe, expect, it } from 'vitest';
import { loadConfig } from '@herald/config';
import { decodeBase64url } from './base64url.js';
import { pushConfig, pushEnabled } from './config.js';
import { assertOptions, MAX_PAYLOAD_BYTES, payloadBytes, topicForMessage } from './options.js';
import { backoffMs, DEFAULT_RETRY, parseRetryAfter } from './retry.js';
import { checkSubscription } from './subscription.js';
import { generateVapidKeys, vapidProblem } from './vapid.js';

const p256dh = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 7)]).toString('base64url');
const auth = Buffer.alloc(16, 1).toString('base64url');
const sub = (endpoint: string, keys: object = { p256dh, auth }): unknown => ({ endpoint, keys });

describe('checkSubscription', () => {
  it('accepts an https endpoint with well-sized keys', () => {
    const r = checkSubscription(sub('https://fcm.googleapis.com/fcm/send/abc'), {}, 5);
    expect(r).toMatchObject({ ok: true, subscription: { endpoint: 'https://fcm.googleapis.com/fcm/send/abc', createdAt: 5 } });
    if (r.ok) expect(r.subscription.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it.each([
    ['plain http', sub('http://push.example/x')],
    ['an IP literal', sub('https://10.0.0.1/x')],
    ['an IPv6 literal', sub('https://[::1]/x')],
    ['localhost', sub('https://localhost/x')],
    ['credentials', sub('https://u:p@push.example/x')],
    ['not a URL', sub('push.example')],
    ['a huge URL', sub(`https://push.example/${'a'.repeat(3000)}`)],
    ['a short p256dh', sub('https://push.example/x', { p256dh: Buffer.alloc(33).toString('base64url'), auth })],
    ['a compressed point', sub('https://push.example/x', { p256dh: Buffer.concat([Buffer.from([2]), Buffer.alloc(64)]).toString('base64url'), auth })],
    ['a 12-byte auth', sub('https://push.example/x', { p256dh, auth: Buffer.alloc(12).toString('base64url') })],
    ['padded base64', sub('https://push.example/x', { p256dh, auth: Buffer.alloc(16).toString('base64') })],
    ['no keys', { endpoint: 'https://push.example/x' }],
    ['a string', 'https://push.example/x'],
    ['null', null],
  ])('refuses %s', (_name, input) => {
    expect(checkSubscription(input).ok).toBe(false);
  });

  it('accepts an allow-listed loopback origin over http, and only that origin', () => {
    const rules = { allowOrigins: ['http://127.0.0.1:4000'] };
    expect(checkSubscription(sub('http://127.0.0.1:4000/push/a'), rules).ok).toBe(true);
    expect(checkSubscription(sub('http://127.0.0.1:4001/push/a'), rules).ok).toBe(false);
  });
});

describe('VAPID keys and config', () => {
  it('generates a 65-byte public / 32-byte private pair that validates', () => {
    const keys = generateVapidKeys();
    expect(decodeBase64url(keys.publicKey)?.length).toBe(65);
    expect(decodeBase64url(keys.privateKey)?.length).toBe(32);
    expect(vapidProblem({ ...keys, subject: 'mailto:ops@example.com' })).toBeUndefined();
    expect(vapidProblem({ ...keys, subject: 'https://example.com/contact' })).toBeUndefined();
  });

  it('finds mismatched keys and a bad subject', () => {
    const a = generateVapidKeys();
    const b = generateVapidKeys();
    expect(vapidProblem({ publicKey: a.publicKey, privateKey: b.privateKey, subject: 'mailto:a@b.c' })).toMatch(/not the public key/);
    expect(vapidProblem({ ...a, subject: 'http://example.com' })).toMatch(/mailto/);
    expect(vapidProblem({ publicKey: a.publicKey })).toMatch(/together/);
  });

  it('has documented defaults and Web Push off without keys', () => {
    const c = loadConfig(pushConfig, {});
    expect(c).toMatchObject({ PUSH_AFTER_MS: 10_000, PUSH_RATE_PER_MIN: 20, PUSH_MAX_SUBSCRIPTIONS: 10, PUSH_TTL_S: 86_400 });
    expect(pushEnabled(c)).toBe(false);
  });

  it('takes HERALD_VAPID_* and refuses a half-set or mismatched key pair without echoing the private key', () => {
    const keys = generateVapidKeys();
    const env = { HERALD_VAPID_PUBLIC_KEY: keys.publicKey, HERALD_VAPID_PRIVATE_KEY: keys.privateKey, HERALD_VAPID_SUBJECT: 'mailto:ops@example.com' };
    expect(pushEnabled(loadConfig(pushConfig, env))).toBe(true);
    const other = generateVapidKeys().privateKey;
    let message = '';
    try {
      loadConfig(pushConfig, { ...env, HERALD_VAPID_PRIVATE_KEY: other });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/not the public key/);
    expect(message).not.toContain(other);
    expect(() => loadConfig(pushConfig, { HERALD_VAPID_PUBLIC_KEY: keys.publicKey })).toThrow(/together/);
  });
});

describe('RFC 8030 options and the payload bound', () => {
  it('derives a 32-character base64url Topic per message id', () => {
    expect(topicForMessage('m-1')).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(topicForMessage('m-1')).toBe(topicForMessage('m-1'));
    expect(topicForMessage('m-1')).not.toBe(topicForMessage('m-2'));
  });

  it.each([
    [{ ttlSeconds: -1 }],
    [{ ttlSeconds: 1.5 }],
    [{ ttlSeconds: 2_419_201 }],
    [{ ttlSeconds: 60, topic: 'a'.repeat(33) }],
    [{ ttlSeconds: 60, topic: 'a=b' }],
    [{ ttlSeconds: 60, urgency: 'urgent' as never }],
  ])('refuses %j with invalid_options', (options) => {
    expect(() => assertOptions(options)).toThrow(expect.objectContaining({ code: 'invalid_options' }));
  });

  it('counts UTF-8 bytes against 3993', () => {
    expect(MAX_PAYLOAD_BYTES).toBe(3993);
    expect(payloadBytes('é'.repeat(1996)).length).toBe(3992);
    expect(() => payloadBytes('é'.repeat(1997))).toThrow(expect.objectContaining({ code: 'payload_too_large' }));
  });
});

describe('retry timing', () => {
  it('reads Retry-After in seconds or as an HTTP date', () => {
    expect(parseRetryAfter('7')).toBe(7000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it('backs off with full jitter under a cap', () => {
    expect(backoffMs(1, DEFAULT_RETRY, () => 0.999)).toBeLessThan(500);
    expect(backoffMs(20, DEFAULT_RETRY, () => 0.999)).toBeLessThanOrEqual(30_000);
  });
});
