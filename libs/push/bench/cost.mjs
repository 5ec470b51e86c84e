// CPU cost of one push on the sending side: RFC 8291 encryption (+ RFC 8292 VAPID signing).
// Run after a build: `npx tsc -p libs/push/tsconfig.build.json && node libs/push/bench/cost.mjs [iterations]`.
// Prints µs of CPU (user+system) per push: (a) encrypt + sign a fresh VAPID JWT each time
// (what web-push's sendNotification does), (b) encrypt with the JWT cached per push service
// origin (what PushSender does), (c) the signing alone.
import { createECDH, randomBytes } from 'node:crypto';
import webpush from 'web-push';
import { checkSubscription, generateVapidKeys, PushSender } from '@herald/push';

const n = Number(process.argv[2] ?? 2000);
const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@example.com' };
const ua = createECDH('prime256v1');
ua.generateKeys();
const input = { endpoint: 'https://push.example.net/push/abc', keys: { p256dh: ua.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') } };
const check = checkSubscription(input);
if (!check.ok) throw new Error(check.message);
const sub = check.subscription;
const payload = JSON.stringify({ id: 'msg-123', title: 'New message', body: 'x'.repeat(200) });
const sender = new PushSender({ vapid });

function measure(name, fn) {
  for (let i = 0; i < 200; i++) fn(); // warm up
  const start = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  const cpu = process.cpuUsage(start);
  const wall = Number(process.hrtime.bigint() - t0) / 1000;
  console.log(`${name}: ${((cpu.user + cpu.system) / n).toFixed(1)} µs CPU/push, ${(wall / n).toFixed(1)} µs wall/push (n=${n})`);
}

measure('encrypt + fresh VAPID JWT (web-push generateRequestDetails)', () =>
  webpush.generateRequestDetails(input, payload, { TTL: 60, vapidDetails: vapid, topic: 'abc', urgency: 'normal' }));
measure('encrypt, VAPID JWT cached per origin (PushSender.prepare)', () =>
  sender.prepare(sub, payload, { ttlSeconds: 60, topic: 'abc', urgency: 'normal' }));
measure('VAPID JWT signing alone (web-push getVapidHeaders)', () =>
  webpush.getVapidHeaders('https://push.example.net', vapid.subject, vapid.publicKey, vapid.privateKey, 'aes128gcm'));
console.log(`payload ${Buffer.byteLength(payload)} bytes; node ${process.version}`);
