import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseSecret, signHeaders, verifySignature } from './signature.js';

// The example vector of the Standard Webhooks reference libraries (svix-webhooks go/webhook_test.go,
// TestWebhookSign; repeated in the standard-webhooks test suites).
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

describe('Standard Webhooks signature', () => {
  it('reproduces the published example vector', () => {
    const headers = signHeaders([parseSecret(VECTOR.secret)], VECTOR.id, VECTOR.timestamp, VECTOR.body);
    expect(headers['webhook-signature']).toBe(VECTOR.signature);
    expect(headers['webhook-timestamp']).toBe('1614265330');
  });

  it('agrees with an independent HMAC computed from the spec text', () => {
    const raw = Buffer.alloc(32, 7);
    const secret = 'whsec_' + raw.toString('base64');
    const body = JSON.stringify({ id: 'evt_x', type: 'user.online', time: '2026-01-01T00:00:00.000Z', data: { user: 'ü ser' } });
    const independent = createHmac('sha256', raw).update(`evt_x.1700000000.${body}`).digest('base64');
    expect(signHeaders([parseSecret(secret)], 'evt_x', 1_700_000_000, body)['webhook-signature']).toBe(`v1,${independent}`);
  });

  it('signs with every key during a rotation, and a receiver with either key accepts', () => {
    const a = parseSecret('whsec_' + Buffer.alloc(24, 1).toString('base64'));
    const b = parseSecret('whsec_' + Buffer.alloc(24, 2).toString('base64'));
    const h = signHeaders([a, b], 'evt_1', 100, '{}');
    expect(h['webhook-signature'].split(' ')).toHaveLength(2);
    for (const key of [a, b]) {
      expect(verifySignature(key, { id: 'evt_1', timestamp: '100', signature: h['webhook-signature'] }, '{}', 100)).toBe(true);
    }
  });

  it('refuses a tampered body, another id, an old timestamp and junk headers', () => {
    const key = parseSecret(VECTOR.secret);
    const ok = { id: VECTOR.id, timestamp: String(VECTOR.timestamp), signature: VECTOR.signature };
    expect(verifySignature(key, ok, VECTOR.body, VECTOR.timestamp)).toBe(true);
    expect(verifySignature(key, ok, VECTOR.body + ' ', VECTOR.timestamp)).toBe(false);
    expect(verifySignature(key, { ...ok, id: 'msg_other' }, VECTOR.body, VECTOR.timestamp)).toBe(false);
    expect(verifySignature(key, ok, VECTOR.body, VECTOR.timestamp + 301)).toBe(false);
    expect(verifySignature(key, { ...ok, signature: 'v2,abc v1' }, VECTOR.body, VECTOR.timestamp)).toBe(false);
    expect(verifySignature(key, { ...ok, timestamp: '1e9' }, VECTOR.body, VECTOR.timestamp)).toBe(false);
  });

  it('refuses malformed secrets without echoing them', () => {
    for (const bad of ['plainsecretplainsecretplainsecret', 'whsec_!!!!', 'whsec_' + Buffer.alloc(8).toString('base64')]) {
      let message = '';
      try {
        parseSecret(bad);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).not.toBe('');
      expect(message).not.toContain(bad.slice(6));
    }
  });
});
