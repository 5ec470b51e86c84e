// Per-user notifications: USERS users each hold one connection (their personal channel,
// no topic subscription); the backend publishes RATE notifications per second, each to one
// random user. Measures end-to-end latency and checks that every notification arrives.
//
//   k6 run -e HERALD_WS_URL=... -e HERALD_API_URL=... -e HERALD_API_KEY=... -e HERALD_JWT_SECRET=... \
//          -e USERS=5000 -e RATE=200 -e DURATION=120 loadtest/k6/user-notify.ts
import exec from 'k6/execution';
import type { Options } from 'k6/options';
import { envNumber, publish, subscribe } from './lib/herald.ts';

const USERS = envNumber('USERS', 1000);
const RATE = envNumber('RATE', 100);
const DURATION_S = envNumber('DURATION', 60);
const WARMUP_S = envNumber('WARMUP', 15);
const MIN_DELIVERED = envNumber('MIN_DELIVERED', 0.999);

const user = (i: number): string => `notify-${i}`;

export const options: Options = {
  scenarios: {
    users: {
      executor: 'per-vu-iterations',
      exec: 'client',
      vus: USERS,
      iterations: 1,
      maxDuration: `${WARMUP_S + DURATION_S + 60}s`,
    },
    backend: {
      executor: 'constant-arrival-rate',
      exec: 'backend',
      startTime: `${WARMUP_S}s`,
      rate: RATE,
      timeUnit: '1s',
      duration: `${DURATION_S}s`,
      preAllocatedVUs: Math.max(2, Math.ceil(RATE / 10)),
      maxVUs: Math.max(10, RATE),
    },
  },
  thresholds: {
    // Publish → the user's connection, on whichever node it lives.
    herald_e2e_ms: ['p(95)<250', 'p(99)<500'],
    'http_req_duration{name:publish}': ['p(99)<250'],
    http_req_failed: ['rate<0.001'],
    // One delivery per notification: every user is connected once.
    herald_messages_received: [`count>=${Math.floor(RATE * DURATION_S * MIN_DELIVERED)}`],
    herald_gaps: ['count==0'],
    herald_connect_ok: ['rate>0.99'],
  },
};

export function client(): void {
  // 0..USERS-1 in this scenario (one iteration per VU): every user is connected once.
  subscribe({ user: user(exec.scenario.iterationInTest), topics: [], holdMs: (WARMUP_S + DURATION_S + 10) * 1000 });
}

export function backend(): void {
  publish({ user: user(Math.floor(Math.random() * USERS)) }, { kind: 'notification' });
}
