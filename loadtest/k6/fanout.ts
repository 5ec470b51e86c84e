// Topic fan-out with end-to-end latency: SUBSCRIBERS connections spread over TOPICS topics,
// one publisher at RATE messages per second. Each message carries the publisher's send time
// (data.sentAt); subscribers record now - sentAt (herald_e2e_ms) and now - msg.ts
// (herald_store_to_client_ms: from Herald's store time, includes clock skew between hosts).
//
//   k6 run -e HERALD_WS_URL=... -e HERALD_API_URL=... -e HERALD_API_KEY=... -e HERALD_JWT_SECRET=... \
//          -e SUBSCRIBERS=2000 -e TOPICS=10 -e RATE=50 -e DURATION=120 loadtest/k6/fanout.ts
import exec from 'k6/execution';
import type { Options } from 'k6/options';
import { envNumber, publish, subscribe } from './lib/herald.ts';

const SUBSCRIBERS = envNumber('SUBSCRIBERS', 500);
const TOPICS = envNumber('TOPICS', 1);
const RATE = envNumber('RATE', 20);
const DURATION_S = envNumber('DURATION', 60);
/** Subscribers connect during this many seconds before the publisher starts. */
const WARMUP_S = envNumber('WARMUP', 15);
/** Share of the published deliveries that must arrive (1 = every one). */
const MIN_DELIVERED = envNumber('MIN_DELIVERED', 0.999);

const EXPECTED = Math.floor((RATE * DURATION_S * SUBSCRIBERS) / TOPICS);

const topic = (i: number): string => `loadtest.fanout.t${i % TOPICS}`;

export const options: Options = {
  scenarios: {
    subscribers: {
      executor: 'per-vu-iterations',
      exec: 'subscriber',
      vus: SUBSCRIBERS,
      iterations: 1,
      maxDuration: `${WARMUP_S + DURATION_S + 60}s`,
    },
    publisher: {
      executor: 'constant-arrival-rate',
      exec: 'publisher',
      startTime: `${WARMUP_S}s`,
      rate: RATE,
      timeUnit: '1s',
      duration: `${DURATION_S}s`,
      preAllocatedVUs: Math.max(2, Math.ceil(RATE / 10)),
      maxVUs: Math.max(10, RATE),
    },
  },
  thresholds: {
    // Publisher send → subscriber receive: the latency users see.
    herald_e2e_ms: ['p(95)<250', 'p(99)<500'],
    // Publish API answers (stored in JetStream) quickly and without errors.
    'http_req_duration{name:publish}': ['p(99)<250'],
    http_req_failed: ['rate<0.001'],
    // Fan-out loses nothing: every subscriber gets every message of its topic, in order.
    herald_messages_received: [`count>=${Math.floor(EXPECTED * MIN_DELIVERED)}`],
    herald_gaps: ['count==0'],
    herald_connect_ok: ['rate>0.99'],
    herald_sub_rejected: ['count==0'],
  },
};

export function subscriber(): void {
  // 0..SUBSCRIBERS-1 in this scenario (one iteration per VU): topics get equal shares.
  const i = exec.scenario.iterationInTest;
  subscribe({
    user: `fanout-${i}`,
    topics: [topic(i)],
    holdMs: (WARMUP_S + DURATION_S + 10) * 1000,
  });
}

let sent = 0;
export function publisher(): void {
  publish({ topic: topic(sent++) }, { n: sent });
}
