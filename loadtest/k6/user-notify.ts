// Per-user notifications: USERS users each hold one connection (their personal channel,
// no topic subscription); the backend publishes RATE notifications per second, each to one
// random user. Measures end-to-end latency and checks that every notification answered 200
// arrives.
//
//   k6 run -e HERALD_WS_URL=... -e HERALD_API_URL=... -e HERALD_API_KEY=... -e HERALD_JWT_SECRET=... \
//          -e USERS=5000 -e RATE=200 -e DURATION=2m loadtest/k6/user-notify.ts
import exec from 'k6/execution';
import type { Options } from 'k6/options';
import { balanceThreshold, envNumber, k6Duration, publish, runPlan } from './lib/herald.ts';
import { session } from './lib/session.ts';

const USERS = envNumber('USERS', 1000, 1);
const RATE = envNumber('RATE', 100, 1);
const PLAN = runPlan('75s');
const MIN_DELIVERED = envNumber('MIN_DELIVERED', 0.999);

const user = (i: number): string => `notify-${i}`;

export const options: Options = {
  scenarios: {
    users: {
      executor: 'per-vu-iterations',
      exec: 'client',
      vus: USERS,
      iterations: 1,
      maxDuration: k6Duration(PLAN.durationMs + 5000),
      gracefulStop: '5s',
    },
    backend: {
      executor: 'constant-arrival-rate',
      exec: 'backend',
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
    // Publish → the user's connection, on whichever node it lives.
    herald_e2e_ms: ['p(95)<250', 'p(99)<500'],
    'http_req_duration{name:publish}': ['p(99)<250'],
    http_req_failed: ['rate<0.001'],
    // One delivery per notification answered 200 (every user is connected once).
    herald_delivery_balance: [balanceThreshold(MIN_DELIVERED)],
    herald_publishes_ok: ['count>0'],
    herald_messages_received: ['count>0'],
    herald_gaps: ['count==0'],
    herald_out_of_order: ['count==0'],
    herald_connect_ok: ['rate>0.99'],
    checks: ['rate>0.99'],
  },
};

export function client(): void {
  // 0..USERS-1 in this scenario (one iteration per VU): every user is connected once.
  session({ user: user(exec.scenario.iterationInTest), topics: [], deadline: exec.scenario.startTime + PLAN.durationMs });
}

export function backend(): void {
  publish({ user: user(Math.floor(Math.random() * USERS)) }, 1, { kind: 'notification' });
}
