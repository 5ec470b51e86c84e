/**
 * The live page served at `/` by `herald dev`: connection state, a subscribe box, a live
 * message list with per-message latency (now − ts), and a development-only publish form.
 * Plain HTML, inline CSS, one module script on the SDK bundle; no framework, no build step.
 * Messages are rendered with textContent only (never innerHTML), so published data cannot
 * inject markup.
 * @module
 */

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{display:flex;gap:1rem;align-items:center;padding:.75rem 1rem;background:#1d2330;color:#fff}
header h1{font-size:1rem;margin:0}
#state{padding:.15rem .6rem;border-radius:1rem;background:#777;font-weight:600}
#state[data-s=connected]{background:#1a7f37}#state[data-s=connecting],#state[data-s=reconnecting]{background:#b58100}
#state[data-s=disconnected],#state[data-s=closed]{background:#b42318}
main{display:grid;grid-template-columns:minmax(18rem,24rem) 1fr;gap:1rem;padding:1rem}
section{background:#fff;border:1px solid #d8dce3;border-radius:.5rem;padding:.75rem 1rem}
h2{font-size:.9rem;margin:.2rem 0 .6rem}
label{display:block;font-size:.8rem;color:#555;margin-top:.4rem}
input,textarea,select{width:100%;box-sizing:border-box;font:inherit;padding:.3rem}
button{margin-top:.5rem;font:inherit;padding:.3rem .8rem;cursor:pointer}
#subs li{display:flex;justify-content:space-between;align-items:center}
#messages{list-style:none;margin:0;padding:0;font:12px/1.5 ui-monospace,monospace;max-height:70vh;overflow:auto}
#messages li{border-bottom:1px solid #eef0f3;padding:.2rem 0;display:grid;grid-template-columns:6rem 10rem 4rem 5rem 1fr;gap:.5rem}
#log{font:12px ui-monospace,monospace;color:#555;max-height:8rem;overflow:auto;white-space:pre-wrap}
.dev{border:2px dashed #b42318;background:#fff5f4}.dev h2{color:#b42318}
`;

const SCRIPT = `
import { HeraldClient } from '/sdk/herald-client.js';
const $ = (id) => document.getElementById(id);
const el = (tag, text) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; return e; };
const log = (line) => { $('log').textContent = new Date().toISOString().slice(11, 23) + ' ' + line + '\\n' + $('log').textContent.slice(0, 4000); };
let client;
const subs = new Map();
async function getToken() {
  const q = new URLSearchParams({ sub: $('sub').value, topics: $('patterns').value });
  const r = await fetch('/dev/token?' + q);
  if (!r.ok) throw new Error('token: HTTP ' + r.status);
  return (await r.json()).token;
}
function show(m) {
  const li = el('li');
  li.append(el('span', new Date().toISOString().slice(11, 23)), el('span', m.ch), el('span', '#' + m.seq),
    el('span', (Date.now() - m.ts) + ' ms'), el('span', JSON.stringify(m.data)));
  $('messages').prepend(li);
  while ($('messages').children.length > 200) $('messages').lastChild.remove();
}
function connect() {
  client?.close();
  subs.clear();
  $('subs').replaceChildren();
  client = new HeraldClient({ url: location.origin, getToken, transports: $('transport').value.split(',') });
  window.heraldClient = client;
  client.on('state', (s) => { $('state').textContent = s; $('state').dataset.s = s; log('state ' + s); });
  client.on('connected', (i) => { $('where').textContent = i.transport + ' · node ' + i.node + ' · user ' + i.user; });
  client.on('user', show);
  client.on('error', (e) => log('error ' + e.code + (e.closeCode ? ' close ' + e.closeCode : '') + (e.reaction ? ' → ' + e.reaction : '') + ': ' + e.message));
  client.on('unrecovered', (e) => log('unrecovered ' + e.channel + ': reload its state'));
  client.connect();
}
function subscribe(topic) {
  if (!client || subs.has(topic)) return;
  let sub;
  try { sub = client.subscribe(topic, show); } catch (e) { return log(e.message); }
  subs.set(topic, sub);
  const li = el('li'); const b = el('button', 'unsubscribe');
  b.onclick = () => { sub.unsubscribe(); subs.delete(topic); li.remove(); };
  li.append(el('span', topic), b);
  $('subs').append(li);
  sub.ready.then((r) => log('subscribe ' + topic + ': ' + (r.ok ? 'live' : r.code)));
}
$('connect').onclick = connect;
$('subform').onsubmit = (e) => { e.preventDefault(); subscribe($('topic').value.trim()); };
$('pubform').onsubmit = async (e) => {
  e.preventDefault();
  let data;
  try { data = JSON.parse($('data').value); } catch { return log('publish: data is not JSON'); }
  const body = { [$('kind').value]: $('target').value.trim(), data };
  const r = await fetch('/dev/publish', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  log('publish → HTTP ' + r.status + ' ' + (await r.text()));
};
connect();
subscribe('news');
`;

export const DEV_PAGE_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Herald dev · live page</title><style>${STYLE}</style></head>
<body>
<header><h1>Herald · live page</h1><span id="state" data-s="disconnected">disconnected</span><span id="where"></span></header>
<main>
<div>
<section><h2>Connection</h2>
<label for="sub">user (token sub)</label><input id="sub" value="dev-user">
<label for="patterns">allowed topics (token claim, comma-separated)</label><input id="patterns" value="&gt;">
<label for="transport">transports</label>
<select id="transport"><option value="websocket,sse">WebSocket, SSE fallback</option><option value="sse">SSE only</option><option value="websocket">WebSocket only</option></select>
<button id="connect">reconnect with these</button>
</section>
<section><h2>Subscriptions</h2>
<form id="subform"><label for="topic">topic</label><input id="topic" value="news" required><button>subscribe</button></form>
<ul id="subs"></ul>
</section>
<section class="dev"><h2>Publish (development only)</h2>
<p>Sent through <code>POST /dev/publish</code>, which exists only in <code>herald dev</code> and holds the
development API key. Production backends call <code>POST /v1/publish</code> with their own key.</p>
<form id="pubform">
<label for="kind">to</label><select id="kind"><option value="topic">topic</option><option value="user">user</option></select>
<label for="target">name</label><input id="target" value="news" required>
<label for="data">data (JSON)</label><textarea id="data" rows="3">{"hello":"world"}</textarea>
<button>publish</button></form>
</section>
<section><h2>Events</h2><div id="log"></div></section>
</div>
<section><h2>Messages <small>(time · channel · seq · latency now − ts · data)</small></h2><ul id="messages"></ul></section>
</main>
<script type="module">${SCRIPT}</script>
</body></html>
`;
