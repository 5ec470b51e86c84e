// Topic fan-out with end-to-end latency: SUBSCRIBERS connections spread over TOPICS topics,
// publishers at RATE messages per second. Each message carries the publisher's send time
// (data.sentAt); subscribers record now - sentAt (herald_e2e_ms) and now - msg.ts
// (herald_store_to_client_ms: from Herald's store time, includes clock skew between hosts).
// Every publish answered 200 expects one delivery per subscriber of its topic.
//
//   k6 run -e HERALD_WS_URL=... -e HERALD_API_URL=... -e HERALD_API_KEY=... -e HERALD_JWT_SECRET=... \
//          -e SUBSCRIBERS=2000 -e TOPICS=10 -e RATE=50 -e DURATION=2m loadtest/k6/fanout.ts
import exec from 'k6/execution';
import type { Options } from 'k6/options';
import { balanceThreshold, envNumber, k6Duration, listenersOf, publish, runPlan } from './lib/herald.ts';
import { session } from './lib/session.ts';

const SUBSCRIBERS = envNumber('SUBSCRIBERS', 500, 1);
const TOPICS = envNumber('TOPICS', 1, 1);
const RATE = envNumber('RATE', 20, 1);
const PLAN = runPlan('75s');
/** Share of the expected deliveries that must arrive (1 = every one). */
const MIN_DELIVERED = envNumber('MIN_DELIVERED', 0.999);

const topic = (i: number): string => `loadtest.fanout.t${i % TOPICS}`;

export const options: Options = {
  scenarios: {
    subscribers: {
      executor: 'per-vu-iterations',
      exec: 'subscriber',
      vus: SUBSCRIBERS,
      iterations: 1,
      maxDuration: k6Duration(PLAN.durationMs + 5000),
      gracefulStop: '5s',
    },
    publisher: {
      executor: 'constant-arrival-rate',
      exec: 'publisher',
      startTime: k6Duration(PLAN.warmupMs),
      rate: RATE,
      timeUnit: '1s',
      duration: k6Duration(PLAN.publishMs),
      preAllocatedVUs: Math.max(2, Math.ceil(RATE / 10)),
      maxVUs: Math.max(10, RATE),
      gracefulStop: '5s',
    },
  },
  thresholds: {
    // Publisher send → subscriber receive: the latency users see.
    herald_e2e_ms: ['p(95)<250', 'p(99)<500'],
    // Publish API answers (stored in JetStream) quickly and without errors.
    'http_req_duration{name:publish}': ['p(99)<250'],
    http_req_failed: ['rate<0.001'],
    // Fan-out loses nothing: received ≥ MIN_DELIVERED × expected (see README), and
    // something was published and received at all.
    herald_delivery_balance: [balanceThreshold(MIN_DELIVERED)],
    herald_publishes_ok: ['count>0'],
    herald_messages_received: ['count>0'],
    herald_gaps: ['count==0'],
    herald_out_of_order: ['count==0'],
    herald_connect_ok: ['rate>0.99'],
    herald_sub_rejected: ['count==0'],
    checks: ['rate>0.99'],
  },
};

export function subscriber(): void {
  // 0..SUBSCRIBERS-1 in this scenario (one iteration per VU): topics get equal shares.
  const i = exec.scenario.iterationInTest;
  session({ user: `fanout-${i}`, topics: [topic(i)], deadline: exec.scenario.startTime + PLAN.durationMs });
}

let sent = 0;
export function publisher(): void {
  const t = sent++ % TOPICS;
  publish({ topic: topic(t) }, listenersOf(t, SUBSCRIBERS, TOPICS), { n: sent });
}
