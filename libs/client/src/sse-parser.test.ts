import { describe, expect, it } from 'vitest';
import { sseParser, type SseEvent } from './sse-parser.js';

function parse(chunks: string[]): { events: SseEvent[]; comments: number } {
  const events: SseEvent[] = [];
  let comments = 0;
  const push = sseParser((e) => events.push(e), () => comments++);
  for (const c of chunks) push(c);
  return { events, comments };
}

describe('sseParser', () => {
  it('reads event, data and id, across chunk boundaries', () => {
    const { events } = parse(['retry: 1000\nevent: we', 'lcome\ndata: {"op":"welcome"}\n', '\nid: e~abc\nevent: msg\ndata: {"a":', '1}\n\n']);
    expect(events).toEqual([
      { type: 'welcome', data: '{"op":"welcome"}', id: undefined },
      { type: 'msg', data: '{"a":1}', id: 'e~abc' },
    ]);
  });
  it('joins multi-line data, accepts CRLF and CR, reports comments (heartbeats)', () => {
    const { events, comments } = parse([': hb\r\n\r\ndata: a\r', '\ndata:b\r\rdata: c\n\n']);
    expect(events.map((e) => e.data)).toEqual(['a\nb', 'c']);
    expect(events[0]?.type).toBe('message');
    expect(comments).toBe(1);
  });
  it('dispatches nothing for an event without data', () => {
    expect(parse(['event: x\n\n']).events).toEqual([]);
  });
});
