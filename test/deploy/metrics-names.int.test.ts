// Every herald_* metric the Grafana dashboard and the alert rules query must exist on a
// running Herald. Starts `herald dev` (gateway + publish API in one process), exercises it
// once (a publish, a WebSocket connection that subscribes with `since`, a ping, a close) so that labelled series appear,
// then reads /metrics: each referenced name needs its `# HELP` line (histograms may be
// referenced as _bucket/_sum/_count), and each label a selector filters on
// (`herald_closes_total{code="4008"}`) must be a label of that metric's samples.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { parse as parseYaml } from 'yaml';
import { signToken } from '@herald/auth';
import { spawnService, type ServiceProcess } from '@herald/testkit';
import { readRepo, repoPath, setupOnce } from './helpers.js';

const CLI = repoPath('services/herald/dist/cli.js');
/** Labels Prometheus adds when it scrapes (kubernetes_sd / ServiceMonitor), not the process. */
const TARGET_LABELS = new Set(['namespace', 'pod', 'instance', 'job', 'service', 'container', 'endpoint']);

interface Query {
  readonly source: string;
  readonly expr: string;
}

/** Every PromQL expression of the dashboard (panel targets, variable queries). */
function dashboardQueries(): Query[] {
  const dashboard = JSON.parse(readRepo('deploy/grafana/herald-dashboard.json')) as {
    panels: { title: string; targets?: { expr: string }[] }[];
    templating: { list: { name: string; definition?: string }[] };
  };
  const out: Query[] = [];
  for (const p of dashboard.panels) for (const t of p.targets ?? []) out.push({ source: `dashboard panel "${p.title}"`, expr: t.expr });
  for (const v of dashboard.templating.list) if (v.definition) out.push({ source: `dashboard variable ${v.name}`, expr: v.definition });
  return out;
}

/** Every rule expression of deploy/prometheus/alerts.yaml (the chart's copy is checked equal by helm.int.test.ts). */
function alertQueries(): Query[] {
  const rules = parseYaml(readRepo('deploy/prometheus/alerts.yaml')) as { groups: { rules: { alert?: string; record?: string; expr: string }[] }[] };
  return rules.groups.flatMap((g) => g.rules.map((r) => ({ source: `alert ${r.alert ?? r.record}`, expr: String(r.expr) })));
}

/** herald_* names (and the standard process_* / nodejs_* ones Herald exposes) in an expression, with the label names its selectors filter on. */
function references(expr: string): { name: string; labels: string[] }[] {
  const out: { name: string; labels: string[] }[] = [];
  const re = /\b((?:herald|process|nodejs)_[a-z0-9_]+)\b(\{[^}]*\})?/g;
  for (const m of expr.matchAll(re)) {
    const labels = m[2] ? [...m[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!=|!~|=)/g)].map((l) => l[1]!) : [];
    out.push({ name: m[1]!, labels });
  }
  return out;
}

interface Exposition {
  readonly help: Set<string>;
  readonly types: Map<string, string>;
  /** Label names seen on the samples of each sample name. */
  readonly sampleLabels: Map<string, Set<string>>;
}

function parseExposition(text: string): Exposition {
  const help = new Set<string>();
  const types = new Map<string, string>();
  const sampleLabels = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = /^# HELP (\S+)/.exec(line))) help.add(m[1]!);
    else if ((m = /^# TYPE (\S+) (\S+)/.exec(line))) types.set(m[1]!, m[2]!);
    else if ((m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s/.exec(line))) {
      const set = sampleLabels.get(m[1]!) ?? new Set<string>();
      for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) set.add(l[1]!);
      sampleLabels.set(m[1]!, set);
    }
  }
  return { help, types, sampleLabels };
}

/** The metric family a referenced name belongs to (histogram series map to their family). */
function family(name: string, exp: Exposition): string | undefined {
  if (exp.help.has(name)) return name;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (m && exp.help.has(m[1]!)) {
    const type = exp.types.get(m[1]!);
    if (type === 'histogram' || (type === 'summary' && m[2] !== 'bucket')) return m[1]!;
  }
  return undefined;
}

describe('metric names used by the dashboard and the alerts', () => {
  const queries = [...dashboardQueries(), ...alertQueries()];
  let dir = '';
  let herald: ServiceProcess | undefined;

  // A failure to start or exercise Herald fails every test below (not only skips them).
  const exposition = setupOnce(async (): Promise<Exposition> => {
    dir = mkdtempSync(join(tmpdir(), 'herald-metrics-'));
    herald = await spawnService({
      args: [CLI, 'dev'],
      env: { HERALD_PORT: '0', HERALD_HOST: '127.0.0.1', HERALD_LOG_LEVEL: 'info' },
      readyMsg: 'listening',
      cwd: dir,
    });
    const base = `127.0.0.1:${herald.port}`;
    // Development credentials `herald dev` generated in its working directory.
    const creds = JSON.parse(readFileSync(join(dir, '.herald/dev.json'), 'utf8')) as { jwtSecret: string; apiKey: string };

    // One publish → publish requests, messages and duration series.
    const res = await fetch(`http://${base}/v1/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${creds.apiKey}` },
      body: JSON.stringify({ topic: 'news', data: { hello: 'metrics' } }),
    });
    expect(res.status).toBe(200);
    // One connection: upgrade, a subscription that recovers from history, a ping, a normal
    // close → upgrades, recoveries, frames_in, closes series.
    const token = await signToken({ secret: creds.jwtSecret, sub: 'metrics-test', topics: ['news'], ttlSec: 60 });
    const ws = new WebSocket(`ws://${base}/v1/ws`, ['herald.v1', `herald.bearer.${token}`]);
    await new Promise<void>((resolve, reject) => {
      ws.once('error', reject);
      ws.on('message', (raw) => {
        const frame = JSON.parse(String(raw)) as { op: string };
        if (frame.op === 'welcome') ws.send(JSON.stringify({ op: 'sub', id: 1, topics: ['news'], since: { 'topic:news': 0 } }));
        if (frame.op === 'ack') ws.send(JSON.stringify({ op: 'ping', id: 2 }));
        if (frame.op === 'pong') ws.close(1000);
      });
      ws.once('close', () => resolve());
    });

    // One SSE request without a token → an SSE refusal series (result, reason).
    const sse = await fetch(`http://${base}/v1/sse?topics=news`);
    expect(sse.status).toBe(401);
    await sse.body?.cancel();

    const metrics = await fetch(`http://${base}/metrics`);
    expect(metrics.status).toBe(200);
    return parseExposition(await metrics.text());
  }, 60_000);

  afterAll(async () => {
    await herald?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('finds queries that reference herald metrics', () => {
    expect(queries.filter((q) => q.source.startsWith('dashboard')).length).toBeGreaterThan(20);
    expect(queries.filter((q) => q.source.startsWith('alert')).length).toBeGreaterThanOrEqual(5);
    // `up` is made by Prometheus itself (HeraldTargetDown), not by Herald.
    for (const q of queries) if (!/\bup\{/.test(q.expr)) expect(references(q.expr).length, `${q.source}: ${q.expr}`).toBeGreaterThan(0);
  });

  it('every alert has a runbook_url pointing at a heading of docs/operations.md', () => {
    const slug = (heading: string): string => heading.trim().toLowerCase().replace(/[^a-z0-9 _-]/g, '').replace(/ /g, '-');
    const anchors = new Set([...readRepo('docs/operations.md').matchAll(/^#{2,4} (.+)$/gm)].map((m) => slug(m[1]!)));
    const rules = parseYaml(readRepo('deploy/prometheus/alerts.yaml')) as { groups: { rules: { alert?: string; annotations?: { runbook_url?: string } }[] }[] };
    const bad: string[] = [];
    for (const r of rules.groups.flatMap((g) => g.rules)) {
      if (r.alert === undefined) continue;
      const m = /docs\/operations\.md#([a-z0-9_-]+)$/.exec(r.annotations?.runbook_url ?? '');
      if (!m || !anchors.has(m[1]!)) bad.push(`${r.alert}: ${r.annotations?.runbook_url ?? 'no runbook_url'}`);
    }
    expect(bad).toEqual([]);
  });

  it('every referenced herald_* name is exposed on /metrics', () => {
    const missing: string[] = [];
    for (const q of queries) {
      for (const ref of references(q.expr)) if (family(ref.name, exposition()) === undefined) missing.push(`${ref.name} (${q.source})`);
    }
    expect(missing).toEqual([]);
  });

  it('every label a selector filters on is a label of that metric', () => {
    const wrong: string[] = [];
    for (const q of queries) {
      for (const ref of references(q.expr)) {
        const own = ref.labels.filter((l) => !TARGET_LABELS.has(l) && l !== 'le');
        if (own.length === 0) continue;
        const seen = exposition().sampleLabels.get(ref.name);
        if (!seen || seen.size === 0) {
          wrong.push(`${ref.name}{${own.join(',')}}: no labelled sample to compare with (${q.source}); exercise it in beforeAll`);
          continue;
        }
        for (const l of own) if (!seen.has(l)) wrong.push(`${ref.name} has no label ${l} (${q.source}); it has ${[...seen].join(', ')}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
