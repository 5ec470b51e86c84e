// The request schemas that validation reads also produce JSON Schema: the ground an OpenAPI document will be built on.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DisconnectBody, HistoryQuery, PresenceQuery } from '../admin/schemas.js';
import { isValidTopic } from '@herald/protocol';
import { TOPIC_PATTERN } from '../fields.js';
import { batchBodySchema, publishBodySchema } from './schemas.js';

const limits = { maxDataBytes: 65536, maxTargets: 100, maxBatch: 1000 };

describe('request schemas', () => {
  it('produce JSON Schema with the limits of the configuration', () => {
    const publish = z.toJSONSchema(publishBodySchema(limits)) as unknown as { properties: Record<string, { maxItems?: number }>; additionalProperties: boolean };
    expect(Object.keys(publish.properties)).toEqual(['topic', 'topics', 'user', 'users', 'data', 'id', 'inbox']);
    expect(publish.properties['topics']?.maxItems).toBe(100);
    expect(publish.additionalProperties).toBe(false);
    const batch = z.toJSONSchema(batchBodySchema(limits)) as unknown as { properties: { messages: { maxItems: number } } };
    expect(batch.properties.messages.maxItems).toBe(1000);
    for (const s of [DisconnectBody, PresenceQuery, HistoryQuery]) expect(z.toJSONSchema(s, { io: 'input' })).toMatchObject({ type: 'object' });
  });
});

describe('topic pattern of the OpenAPI document', () => {
  it('agrees with the topic grammar validation uses', () => {
    const re = new RegExp(TOPIC_PATTERN);
    const samples = ['news', 'orders.eu-west.shop_1', 'a.b.c.d.e.f.g.h', 'a.b.c.d.e.f.g.h.i', '', '.', 'a.', '.a', 'a..b', 'a*', 'orders.>', 'a b', 'é', 'A-Z_0', 'x\n'];
    for (const s of samples) expect(re.test(s) && s.length <= 200, s).toBe(isValidTopic(s));
  });
});
