/**
 * A stand-in for a stream replica that lags its leader, as one restarted after a failure does
 * for a while: it answers the stream's direct gets (`$JS.API.DIRECT.GET.<stream>`) in the
 * server's own format (the message with `Nats-Stream`, `Nats-Subject`, `Nats-Sequence`,
 * `Nats-Time-Stamp` headers, or status 404) but holds only the messages with seq ≤ `applied()`.
 * The stream must have direct gets off (`allow_direct: false`), so that this is the only answer;
 * the leader (`STREAM.MSG.GET`) stays the real server. Deterministic, unlike killing a server.
 * @module
 */
import { headers, type Msg, type NatsConnection } from '@nats-io/transport-node';
import type { JetStreamManager, MsgRequest, StoredMsg } from '@nats-io/jetstream';

export interface LaggingReplica {
  /** Direct gets answered so far. */
  readonly answered: number;
  stop(): void;
}

interface DirectRequest {
  seq?: number;
  next_by_subj?: string;
  last_by_subj?: string;
}

/** Answers direct gets of `stream` (both forms) as a replica holding seqs ≤ applied(). */
export async function startLaggingReplica(nc: NatsConnection, jsm: JetStreamManager, stream: string, applied: () => number): Promise<LaggingReplica> {
  let answered = 0;
  const notFound = (m: Msg): void => void m.respond(new Uint8Array(0), { headers: headers(404, 'Message Not Found') });
  const prefix = `$JS.API.DIRECT.GET.${stream}`;
  const answer = async (m: Msg): Promise<void> => {
    answered++;
    let q: DirectRequest;
    try {
      // `<prefix>.<subject>` with no body is "the last message of that subject".
      q = m.subject === prefix ? m.json<DirectRequest>() : { last_by_subj: m.subject.slice(prefix.length + 1) };
    } catch {
      notFound(m);
      return;
    }
    const sm = q.last_by_subj === undefined ? await jsm.streams.getMessage(stream, q as MsgRequest) : await lastApplied(q.last_by_subj);
    if (sm === null || sm.seq > applied()) {
      notFound(m);
      return;
    }
    const h = headers();
    for (const k of sm.header.keys()) for (const v of sm.header.values(k)) h.append(k, v);
    h.set('Nats-Stream', stream);
    h.set('Nats-Subject', sm.subject);
    h.set('Nats-Sequence', String(sm.seq));
    h.set('Nats-Time-Stamp', sm.timestamp);
    m.respond(sm.data, { headers: h });
  };
  /** The replica's last message of a subject: the newest one at or below applied() (a walk; tests hold few). */
  const lastApplied = async (subject: string): Promise<StoredMsg | null> => {
    let found: StoredMsg | null = null;
    for (let seq = 1; seq <= applied(); ) {
      const sm = await jsm.streams.getMessage(stream, { seq, next_by_subj: subject } as MsgRequest);
      if (sm === null || sm.seq > applied()) break;
      found = sm;
      seq = sm.seq + 1;
    }
    return found;
  };
  const onRequest = (_err: unknown, m: Msg): void => void answer(m).catch(() => notFound(m));
  const subs = [nc.subscribe(prefix, { callback: onRequest }), nc.subscribe(`${prefix}.>`, { callback: onRequest })];
  await nc.flush();
  return {
    get answered() {
      return answered;
    },
    stop: () => {
      for (const s of subs) s.unsubscribe();
    },
  };
}
