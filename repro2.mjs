import { spawnService, openWs } from '@herald/testkit';
import { signToken } from '@herald/auth';
const SECRET='gateway-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const svc = await spawnService({ args: ['services/gateway/dist/main.js'], env: { HERALD_PORT:'0', HERALD_HOST:'127.0.0.1', HERALD_JWT_SECRET: SECRET, HERALD_LOG_LEVEL:'debug' } });
let fails=0;
for (let run=0; run<200 && fails<2; run++) {
  const start = svc.lines.length;
  const res = await Promise.allSettled(Array.from({length:30},async (_,i)=>openWs(`ws://127.0.0.1:${svc.port}/v1/ws`,{token: await signToken({secret:SECRET, sub:`d${run}-${i}`, ttlSec:600})})));
  const bad = res.map((r,i)=>[r,i]).filter(([r])=>r.status==='rejected');
  if (bad.length) { fails++; await new Promise(r=>setTimeout(r,200)); for (const [r,i] of bad) { const sub=`d${run}-${i}`; console.log('FAILED', sub, String(r.reason)); console.log(svc.lines.slice(start).filter(l=>l.includes(`"${sub}"`)).join('\n')); } }
  for (const r of res) if (r.status==='fulfilled' && r.value.terminate) r.value.terminate();
}
console.log('fails', fails);
await svc.kill();
