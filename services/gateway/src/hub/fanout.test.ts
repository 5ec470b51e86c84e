// Unit tests of the fan-out: one frame per message, native publish, then other sinks (SSE), then connections mid-recovery.
import { describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '@herald/telemetry';
import { silentLog, TopicRouter, RecordingSocket } from '../../test/unit-helpers.js';
import { createGatewayMetrics, type GatewayMetrics } from '../metrics.js';
import { NativeSink } from '../ws/native-sink.js';
import { Fanout } from './fanout.js';

const MSG = { channel: 'topic:a', seq: 7, prev: 6, data: '{"x":1}', ts: 1000, id: 'm1' };
const FRAME = '{"op":"msg","ch":"topic:a","seq":7,"prev":6,"ts":1000,"id":"m1","data":{"x":1}}';

function setup(): { events: string[]; fanout: Fanout; router: TopicRouter; deliveries: () => Promise<number>; attach: () => void; metrics: GatewayMetrics } {
  const events: string[] = [];
  const metrics = createGatewayMetrics(createMetricsRegistry());
  const router = new TopicRouter();
  const fanout = new Fanout({
    metrics,
    recovery: { has: (ch) => ch === 'topic:a', offer: (ch, seq, frame) => void events.push(`recovery ${ch} ${seq} ${frame}`) },
    log: silentLog,
  });
  const sse = { deliver: (ch: string, seq: number, frame: string): number => (events.push(`sse ${ch} ${seq} ${frame}`), 2), count: () => 2 };
  const deliveries = async (): Promise<number> => (await metrics.deliveries.get()).values[0]?.value ?? 0;
  return { events, fanout, router, deliveries, metrics, attach: () => (fanout.attach(new NativeSink(router, false)), fanout.attach(sse)) };
}

describe('Fanout', () => {
  it('does nothing before attach', () => {
    const { events, fanout } = setup();
    fanout.onMessage(MSG);
    expect(events).toEqual([]);
  });

  it('encodes once and delivers natively, then to the other sinks, then to recovering connections, counting deliveries', async () => {
    const { events, fanout, router, deliveries, attach } = setup();
    const ws = new RecordingSocket();
    ws.subscribe('topic:a');
    router.sockets.add(ws);
    const publish = router.publish.bind(router);
    router.publish = (topic, message) => (events.push('native'), publish(topic, message));
    attach();
    fanout.onMessage(MSG);
    expect(ws.sent).toEqual([FRAME]);
    expect(events).toEqual(['native', `sse topic:a 7 ${FRAME}`, `recovery topic:a 7 ${FRAME}`]);
    expect(await deliveries()).toBe(3);
  });

  it('skips the native publish when no socket is subscribed', async () => {
    const { events, fanout, router, attach } = setup();
    const published: string[] = [];
    router.publish = (topic) => (published.push(topic), true);
    attach();
    fanout.onMessage(MSG);
    expect(published).toEqual([]);
    expect(events.length).toBe(2);
  });

  it('counts the connections of every sink for presence', () => {
    const { fanout, router, attach } = setup();
    const ws = new RecordingSocket();
    ws.subscribe('topic:a');
    router.sockets.add(ws);
    attach();
    expect(fanout.count('topic:a')).toBe(3);
  });

  it('observes the delivery latency once per delivered message, not per recipient, never below 0', async () => {
    const { fanout, attach, metrics } = setup();
    fanout.onMessage({ ...MSG, ts: Date.now() });
    attach();
    fanout.onMessage({ ...MSG, seq: 8, ts: Date.now() - 40 });
    fanout.onMessage({ ...MSG, seq: 9, ts: Date.now() + 60_000 });
    const values = (await metrics.deliveryLatency.get()).values;
    const value = (name: string): number => values.find((v) => v.metricName === name)?.value ?? -1;
    expect(value('herald_delivery_latency_seconds_count')).toBe(2);
    expect(value('herald_delivery_latency_seconds_sum')).toBeGreaterThanOrEqual(0.04);
    expect(value('herald_delivery_latency_seconds_sum')).toBeLessThan(5);
  });
});
