// Soak: a steady, realistic mix for hours. CONNECTIONS clients, each reconnecting every
// CYCLE seconds (churn); topic broadcasts at TOPIC_RATE/s and personal notifications at
// USER_RATE/s. Watch the servers' memory and CPU (Grafana dashboard) while it runs: they
// must stay flat.
//
//   k6 run -e HERALD_WS_URL=... -e HERALD_API_URL=... -e HERALD_API_KEY=... -e HERALD_JWT_SECRET=... \
//          -e CONNECTIONS=2000 -e DURATION=4h loadtest/k6/soak.ts
import exec from 'k6/execution';
import type { Options } from 'k6/options';
import { envNumber, publish, subscribe } from './lib/herald.ts';

const CONNECTIONS = envNumber('CONNECTIONS', 500);
const DURATION = __ENV['DURATION'] || '1h';
const CYCLE_S = envNumber('CYCLE', 300);
const TOPIC_RATE = envNumber('TOPIC_RATE', 5);
const USER_RATE = envNumber('USER_RATE', 20);
const TOPICS = envNumber('TOPICS', 20);

const topic = (i: number): string => `loadtest.soak.t${i % TOPICS}`;
const user = (i: number): string => `soak-${i}`;

export const options: Options = {
  scenarios: {
    clients: {
      executor: 'constant-vus',
      exec: 'client',
      vus: CONNECTIONS,
      duration: DURATION,
      gracefulStop: `${CYCLE_S + 30}s`,
    },
    broadcasts: {
      executor: 'constant-arrival-rate',
      exec: 'broadcast',
      rate: TOPIC_RATE,
      timeUnit: '1s',
      duration: DURATION,
      preAllocatedVUs: 2,
      maxVUs: 20,
    },
    notifications: {
      executor: 'constant-arrival-rate',
      exec: 'notify',
      rate: USER_RATE,
      timeUnit: '1s',
      duration: DURATION,
      preAllocatedVUs: 2,
      maxVUs: 50,
    },
  },
  thresholds: {
    // Latency does not creep up over hours (compare the first and last hour in the output).
    herald_e2e_ms: ['p(99)<500'],
    http_req_failed: ['rate<0.001'],
    // Reconnects keep succeeding (no leak of per-user connection slots, no fd exhaustion).
    herald_connect_ok: ['rate>0.999'],
    herald_gaps: ['count==0'],
    // Connections end when the script ends them; a few drops per hour at most.
    herald_unexpected_closes: ['count<50'],
  },
};

export function client(): void {
  // A random offset desynchronizes the reconnects of the VUs.
  const hold = (CYCLE_S * (0.5 + Math.random())) * 1000;
  const i = exec.scenario.iterationInTest % CONNECTIONS;
  subscribe({ user: user(i), topics: [topic(i)], holdMs: hold });
}

let n = 0;
export function broadcast(): void {
  publish({ topic: topic(n++) });
}

export function notify(): void {
  publish({ user: user(Math.floor(Math.random() * CONNECTIONS)) });
}
