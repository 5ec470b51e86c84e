// Presence metrics read at scrape: members and topics now, counters that never go down.
import { createMetricsRegistry } from '@herald/telemetry';
import { describe, expect, it } from 'vitest';
import { registerPresenceMetrics, type PresenceSource } from './metrics.js';

function source(): PresenceSource & { stats: { framesSent: number; joinsSent: number; leavesSent: number; announcements: number }; members: number; topics: number } {
  const s = {
    stats: { framesSent: 0, joinsSent: 0, leavesSent: 0, announcements: 0 },
    members: 0,
    topics: 0,
    sizes: () => ({ members: s.members, topics: s.topics }),
  };
  return s;
}

async function values(text: Promise<string>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const line of (await text).split('\n')) {
    const m = /^(herald_presence_\w+)(?:\{[^}]*\})? (\S+)$/.exec(line);
    if (m) out[m[1] as string] = Number(m[2]);
  }
  return out;
}

describe('presence metrics', () => {
  it('sum the gateways of a registry at scrape; counters only grow', async () => {
    const registry = createMetricsRegistry({ node: 'n1' });
    const a = source();
    const b = source();
    registerPresenceMetrics(registry, a);
    registerPresenceMetrics(registry, b);
    a.members = 3;
    a.topics = 2;
    b.members = 1;
    b.topics = 1;
    a.stats.framesSent = 4;
    a.stats.joinsSent = 5;
    b.stats.leavesSent = 2;
    a.stats.announcements = 7;
    expect(await values(registry.metrics())).toEqual({
      herald_presence_members: 4, herald_presence_topics: 3, herald_presence_frames_total: 4, herald_presence_changes_total: 7, herald_presence_announcements_total: 7,
    });
    a.members = 0;
    a.stats.framesSent = 6;
    const next = await values(registry.metrics());
    expect(next['herald_presence_members']).toBe(1);
    expect(next['herald_presence_frames_total']).toBe(6);
  });
});
