// Connect storm: many clients connect at once (a deploy, a node failure, a morning peak).
// Ramps to CONNECTIONS connections over RAMP seconds, holds them HOLD seconds, then leaves.
//
//   k6 run -e HERALD_WS_URL=wss://push.example.com/v1/ws -e HERALD_JWT_SECRET=... \
//          -e CONNECTIONS=5000 -e RAMP=30 -e HOLD=60 loadtest/k6/connect-storm.ts
import type { Options } from 'k6/options';
import { envNumber, subscribe } from './lib/herald.ts';

const CONNECTIONS = envNumber('CONNECTIONS', 1000);
const RAMP_S = envNumber('RAMP', 30);
const HOLD_S = envNumber('HOLD', 60);

export const options: Options = {
  scenarios: {
    storm: {
      executor: 'ramping-vus',
      startVUs: 0,
      stages: [
        { duration: `${RAMP_S}s`, target: CONNECTIONS },
        { duration: `${HOLD_S}s`, target: CONNECTIONS },
      ],
      // Let every held connection finish its hold before k6 stops it.
      gracefulRampDown: `${HOLD_S + 10}s`,
      gracefulStop: `${HOLD_S + 10}s`,
    },
  },
  thresholds: {
    // Upgrade + JWT verification + welcome under a storm.
    herald_welcome_ms: ['p(95)<1000', 'p(99)<3000'],
    // Nearly every attempt is accepted (refusals are 503 over HERALD_UPGRADE_RATE).
    herald_connect_ok: ['rate>0.99'],
    // Held connections are not dropped by the server or a proxy.
    herald_unexpected_closes: ['count<10'],
  },
};

export default function (): void {
  // One user per VU: stays under HERALD_MAX_CONNECTIONS_PER_USER.
  subscribe({ user: `storm-${__VU}`, topics: ['loadtest.storm'], holdMs: HOLD_S * 1000 });
}
