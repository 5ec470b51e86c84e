// Soak: a steady, realistic mix for hours. CONNECTIONS clients, each closing its connection
// after about CYCLE (0.5-1.5 × CYCLE) and reconnecting with recovery (churn); topic
// broadcasts at TOPIC_RATE/s over TOPICS topics and personal notifications at USER_RATE/s.
// Nothing may be lost across the reconnects. Watch the servers' memory and CPU (Grafana
// dashboard) while it runs: they must stay flat.
//
//   k6 run -e HERALD_WS_URL=... -e HERALD_API_URL=... -e HERALD_API_KEY=... -e HERALD_JWT_SECRET=... \
//          -e CONNECTIONS=2000 -e DURATION=4h loadtest/k6/soak.ts
import exec from 'k6/execution';
import type { Options } from 'k6/options';
import { balanceThreshold, envDuration, envNumber, k6Duration, listenersOf, publish, runPlan } from './lib/herald.ts';
import { session } from './lib/session.ts';

const CONNECTIONS = envNumber('CONNECTIONS', 500, 1);
const PLAN = runPlan('1h');
const CYCLE_MS = envDuration('CYCLE', '5m');
const TOPIC_RATE = envNumber('TOPIC_RATE', 5, 1);
const USER_RATE = envNumber('USER_RATE', 20, 1);
const TOPICS = envNumber('TOPICS', 20, 1);
const MIN_DELIVERED = envNumber('MIN_DELIVERED', 0.999);
/** Connections the server may drop during the run before the test fails. */
const MAX_DROPS = envNumber('MAX_DROPS', 50);

const topic = (i: number): string => `loadtest.soak.t${i % TOPICS}`;
const user = (i: number): string => `soak-${i}`;

const publishing = (fn: string, rate: number, maxVUs: number) => ({
  executor: 'constant-arrival-rate' as const,
  exec: fn,
  startTime: k6Duration(PLAN.warmupMs),
  rate,
  timeUnit: '1s',
  duration: k6Duration(PLAN.publishMs),
  preAllocatedVUs: 2,
  maxVUs,
  gracefulStop: '5s',
});

export const options: Options = {
  scenarios: {
    clients: {
      executor: 'per-vu-iterations',
      exec: 'client',
      vus: CONNECTIONS,
      iterations: 1,
      maxDuration: k6Duration(PLAN.durationMs + 5000),
      gracefulStop: '5s',
    },
    broadcasts: publishing('broadcast', TOPIC_RATE, 20),
    notifications: publishing('notify', USER_RATE, 50),
  },
  thresholds: {
    // Latency does not creep up over hours (compare the first and last hour in the output).
    herald_e2e_ms: ['p(99)<500'],
    http_req_failed: ['rate<0.001'],
    // Reconnects keep succeeding (no leak of per-user connection slots, no fd exhaustion).
    herald_connect_ok: ['rate>0.999'],
    // Nothing lost across reconnects, and something was published and received at all.
    herald_delivery_balance: [balanceThreshold(MIN_DELIVERED)],
    herald_publishes_ok: ['count>0'],
    herald_messages_received: ['count>0'],
    herald_gaps: ['count==0'],
    herald_out_of_order: ['count==0'],
    // Connections end when the script ends them; a few drops per hour at most.
    herald_unexpected_closes: [`count<=${MAX_DROPS}`],
    checks: ['rate>0.99'],
  },
};

export function client(): void {
  // 0..CONNECTIONS-1 (one iteration per VU): the VU keeps its user and topic across
  // reconnects, so it can recover what it missed. Random cycles desynchronize reconnects.
  const i = exec.scenario.iterationInTest;
  session({
    user: user(i),
    topics: [topic(i)],
    deadline: exec.scenario.startTime + PLAN.durationMs,
    cycleMs: () => CYCLE_MS * (0.5 + Math.random()),
  });
}

let n = 0;
export function broadcast(): void {
  const t = n++ % TOPICS;
  publish({ topic: topic(t) }, listenersOf(t, CONNECTIONS, TOPICS));
}

export function notify(): void {
  publish({ user: user(Math.floor(Math.random() * CONNECTIONS)) }, 1);
}
