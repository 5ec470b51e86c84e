import { describe, expect, it } from 'vitest';
import { expire, syncCount, total, type PresenceValue } from './presence-state.js';

const never = (): boolean => false;

describe('presence transitions', () => {
  it('first connection anywhere goes up once; more connections change counts only', () => {
    const a = syncCount(undefined, 'A', 1, 0);
    expect(a?.kind).toBe('up');
    const b = syncCount(a?.next, 'B', 2, 1);
    expect(b?.kind).toBeUndefined();
    expect(total(b?.next)).toBe(3);
    expect(syncCount(b?.next, 'B', 2, 2)).toBeUndefined();
  });

  it('the last connection gone starts the grace; the grace over, it goes down once', () => {
    const up = syncCount(undefined, 'A', 1, 0)!.next;
    const gone = syncCount(up, 'A', 0, 1000)!;
    expect(gone.kind).toBeUndefined();
    expect(gone.next).toMatchObject({ on: true, gone: 1000 });
    expect(expire(gone.next, never, 5999, 5000)).toBeUndefined();
    const down = expire(gone.next, never, 6000, 5000)!;
    expect(down.kind).toBe('down');
    expect(expire(down.next, never, 7000, 5000)).toBeUndefined();
  });

  it('a hop to another node within the grace makes no transition', () => {
    const up = syncCount(undefined, 'A', 1, 0)!.next;
    const gone = syncCount(up, 'A', 0, 1000)!.next;
    const back = syncCount(gone, 'B', 1, 2000)!;
    expect(back.kind).toBeUndefined();
    expect(back.next.gone).toBeUndefined();
    expect(expire(back.next, never, 60_000, 5000)).toBeUndefined();
  });

  it('a dead node loses its counts; users with no other connection go down at once', () => {
    const v: PresenceValue = { nodes: { A: 2, B: 1 }, on: true };
    const onlyA = expire(v, (n) => n === 'B', 10, 5000)!;
    expect(onlyA.kind).toBeUndefined();
    expect(onlyA.next.nodes).toEqual({ A: 2 });
    const none = expire({ nodes: { B: 1 }, on: true }, (n) => n === 'B', 10, 5000)!;
    expect(none.kind).toBe('down');
  });

  it('a disconnect of a node that holds nothing writes nothing', () => {
    expect(syncCount(undefined, 'A', 0, 0)).toBeUndefined();
    expect(syncCount({ nodes: { B: 1 }, on: true }, 'A', 0, 0)).toBeUndefined();
  });
});
