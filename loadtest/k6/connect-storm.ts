// Connect storm: many clients connect at once (a deploy, a node failure, a morning peak).
// CONNECTIONS clients connect evenly over RAMP and hold their connections until DURATION
// ends; a dropped or refused client reconnects with backoff.
//
//   k6 run -e HERALD_WS_URL=wss://push.example.com/v1/ws -e HERALD_JWT_SECRET=... \
//          -e CONNECTIONS=5000 -e RAMP=30s -e DURATION=90s loadtest/k6/connect-storm.ts
import exec from 'k6/execution';
import type { Options } from 'k6/options';
import { envDuration, envNumber, k6Duration } from './lib/herald.ts';
import { session } from './lib/session.ts';

const CONNECTIONS = envNumber('CONNECTIONS', 1000, 1);
const DURATION_MS = envDuration('DURATION', '90s');
const RAMP_MS = envDuration('RAMP', k6Duration(Math.min(30_000, DURATION_MS / 3)));
/** Connections the server may drop during the run before the test fails. */
const MAX_DROPS = envNumber('MAX_DROPS', 10);
if (RAMP_MS >= DURATION_MS) throw new Error('RAMP must be shorter than DURATION');

export const options: Options = {
  scenarios: {
    storm: {
      executor: 'per-vu-iterations',
      vus: CONNECTIONS,
      iterations: 1,
      // Sessions close themselves at DURATION; this only bounds a stuck one.
      maxDuration: k6Duration(DURATION_MS + 5000),
      gracefulStop: '5s',
    },
  },
  thresholds: {
    // Upgrade + JWT verification + welcome under a storm.
    herald_welcome_ms: ['p(95)<1000', 'p(99)<3000'],
    // Nearly every attempt is accepted (refusals are 503 over HERALD_UPGRADE_RATE).
    herald_connect_ok: ['rate>0.99'],
    // Every client got in at least once: fails when nothing connects.
    herald_welcomes: [`count>=${CONNECTIONS}`],
    // Held connections are not dropped by the server or a proxy.
    herald_unexpected_closes: [`count<=${MAX_DROPS}`],
    checks: ['rate>0.99'],
  },
};

export default function (): void {
  // 0..CONNECTIONS-1 (one iteration per VU); one user per connection stays under
  // HERALD_MAX_CONNECTIONS_PER_USER.
  const i = exec.scenario.iterationInTest;
  session({
    user: `storm-${i}`,
    topics: ['loadtest.storm'],
    delayMs: (RAMP_MS * i) / CONNECTIONS,
    deadline: exec.scenario.startTime + DURATION_MS,
  });
}
