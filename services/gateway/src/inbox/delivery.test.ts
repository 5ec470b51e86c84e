import { MemoryInboxStore, type InboxChange, type InboxStore } from '@herald/inbox';
import { describe, expect, it } from 'vitest';
import type { ConnState } from '../conn/state.js';
import { ConnInbox } from './delivery.js';

const log = { warn: () => undefined, debug: () => undefined, info: () => undefined } as never;

function fakeConn(sub: string): { st: ConnState; frames: Record<string, unknown>[]; closed: number[] } {
  const frames: Record<string, unknown>[] = [];
  const closed: number[] = [];
  const st = { sub, connId: 'c1', closed: false } as unknown as ConnState;
  return { st, frames, closed };
}

function senderFor(c: ReturnType<typeof fakeConn>) {
  return {
    sendMsg: (_st: ConnState, _ch: string, _seq: number, text: string) => (c.frames.push(JSON.parse(text) as Record<string, unknown>), true),
    sendText: (_st: ConnState, text: string) => (c.frames.push(JSON.parse(text) as Record<string, unknown>), true),
    close: (_st: ConnState, code: number) => void c.closed.push(code),
  };
}

describe('ConnInbox', () => {
  it('seam: appends during the read are delivered once, in order, after the pending ones', async () => {
    const store = new MemoryInboxStore();
    for (let i = 0; i < 5; i++) await store.append('u', { data: String(i) });
    // A store whose pending() lets appends happen between pages.
    let appends = 0;
    const racing: InboxStore = Object.create(store) as InboxStore;
    racing.pending = async (user, after, limit) => {
      const page = await store.pending(user, after, Math.min(limit, 2));
      if (appends++ < 4) await store.append('u', { data: `"live${appends}"` });
      return page;
    };
    racing.watch = (user, l) => store.watch(user, l);
    const c = fakeConn('u');
    const inbox = new ConnInbox(c.st, 0, { store: () => Promise.resolve(racing), sender: senderFor(c), maxBuffered: 100, log });
    await inbox.start();
    await store.append('u', { data: '"after"' });
    const seqs = c.frames.filter((f) => f['op'] === 'inbox').map((f) => f['seq'] as number);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs.length).toBe(5 + 4 + 1);
    inbox.stop();
  });

  it('resumes after the client position and skips read messages', async () => {
    const store = new MemoryInboxStore();
    const seqs: number[] = [];
    for (let i = 0; i < 6; i++) seqs.push((await store.append('u', { data: String(i) })).seq);
    await store.markRead('u', { seqs: [seqs[4]!] });
    const c = fakeConn('u');
    const inbox = new ConnInbox(c.st, seqs[2]!, { store: () => Promise.resolve(store), sender: senderFor(c), maxBuffered: 100, log });
    await inbox.start();
    expect(c.frames.map((f) => f['seq'])).toEqual([seqs[3], seqs[5]]);
    inbox.stop();
  });

  it('read frames: not for what this connection acknowledged itself, even when the change arrives late', async () => {
    let listener: ((c: InboxChange) => void) | undefined;
    const store = { watch: (_u: string, l: (c: InboxChange) => void) => ((listener = l), Promise.resolve(() => Promise.resolve())), pending: () => Promise.resolve({ messages: [], more: false }) } as unknown as InboxStore;
    const c = fakeConn('u');
    const inbox = new ConnInbox(c.st, 0, { store: () => Promise.resolve(store), sender: senderFor(c), maxBuffered: 100, log });
    await inbox.start();
    const change = (read: number, readSeqs: number[]): InboxChange => ({ kind: 'receipt', status: 'read', delivered: read, read, readSeqs, seqs: [] });
    inbox.noteOwnRead([3]);
    inbox.noteOwnRead(10); // a later cumulative receipt of its own
    listener?.(change(0, [3])); // the first one's change, late
    listener?.(change(10, []));
    expect(c.frames).toEqual([]);
    listener?.(change(10, [12])); // another device read 12
    listener?.(change(15, [])); // and everything up to 15
    expect(c.frames).toEqual([{ op: 'read', upTo: 10, seqs: [12] }, { op: 'read', upTo: 15 }]);
    inbox.stop();
  });

  it('closes with 4008 when more live messages than the bound arrive during the read', async () => {
    let listener: ((c: InboxChange) => void) | undefined;
    let release: (() => void) | undefined;
    const store = {
      watch: (_u: string, l: (c: InboxChange) => void) => ((listener = l), Promise.resolve(() => Promise.resolve())),
      pending: () => new Promise((r) => { release = () => r({ messages: [], more: false }); }),
    } as unknown as InboxStore;
    const c = fakeConn('u');
    const inbox = new ConnInbox(c.st, 0, { store: () => Promise.resolve(store), sender: senderFor(c), maxBuffered: 2, log });
    const started = inbox.start();
    await new Promise((r) => setTimeout(r, 10));
    for (let i = 1; i <= 3; i++) listener?.({ kind: 'message', message: { user: 'u', seq: i, id: `m${i}`, ts: 1, data: '1' } });
    expect(c.closed).toEqual([4008]);
    release?.();
    await started;
    inbox.stop();
  });
});
