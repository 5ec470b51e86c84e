/**
 * Prometheus metrics of presence members (docs/operations.md#metrics), read at scrape from
 * each gateway's counters: nothing is added to the join, leave or frame paths. Several
 * gateways on one registry (tests) are summed; a closed gateway stays in the sum with its
 * final counts (so the counters never go down) and no members.
 */
import { Counter, Gauge, type Registry } from '@herald/telemetry';
import type { PresenceStats } from './members.js';

/** What a gateway's presence exposes to its metrics. */
export interface PresenceSource {
  readonly stats: Readonly<PresenceStats>;
  sizes(): { readonly members: number; readonly topics: number };
}

const sourcesOf = new WeakMap<Registry, Set<PresenceSource>>();

function sum(sources: ReadonlySet<PresenceSource>, pick: (s: PresenceSource) => number): number {
  let n = 0;
  for (const s of sources) n += pick(s);
  return n;
}

/** A counter read from the sources at scrape (their counts only grow). */
function scrapedCounter(registry: Registry, sources: ReadonlySet<PresenceSource>, name: string, help: string, pick: (s: PresenceSource) => number): void {
  let reported = 0;
  new Counter({
    name, help, registers: [registry],
    collect() {
      const now = sum(sources, pick);
      if (now > reported) this.inc(now - reported);
      reported = Math.max(reported, now);
    },
  });
}

/** Adds a gateway's presence to the registry's presence metrics, registering them on first use. */
export function registerPresenceMetrics(registry: Registry, source: PresenceSource): void {
  let sources = sourcesOf.get(registry);
  if (sources === undefined) {
    const set = new Set<PresenceSource>();
    sources = set;
    sourcesOf.set(registry, set);
    scrapedCounter(registry, set, 'herald_presence_frames_total', 'Presence frames sent to connections reading a member list', (s) => s.stats.framesSent);
    scrapedCounter(registry, set, 'herald_presence_changes_total', 'Joins and leaves sent to connections (one per member per reading connection)', (s) => s.stats.joinsSent + s.stats.leavesSent);
    scrapedCounter(registry, set, 'herald_presence_announcements_total', "Member lists this node sent to the other nodes (on change and every heartbeat)", (s) => s.stats.announcements);
    new Gauge({ name: 'herald_presence_members', help: 'Members (users with a connection on this node) summed over presence topics', registers: [registry], collect() { this.set(sum(set, (s) => s.sizes().members)); } });
    new Gauge({ name: 'herald_presence_topics', help: 'Presence topics this node holds (local members or connections reading the list)', registers: [registry], collect() { this.set(sum(set, (s) => s.sizes().topics)); } });
  }
  sources.add(source);
}
