/**
 * A `text/event-stream` parser (the HTML standard's algorithm, the parts Herald uses):
 * `event:`, `data:` (joined with newlines), `id:`, comment lines. `retry:` is ignored: the
 * client schedules reconnects itself, with backoff.
 * @module
 */

/** @internal */
export interface SseEvent {
  readonly type: string;
  readonly data: string;
  readonly id: string | undefined;
}

/** @internal Returns the function to feed text chunks to; complete events and comments come out through the callbacks. */
export function sseParser(onEvent: (ev: SseEvent) => void, onComment: () => void): (chunk: string) => void {
  let buffer = '';
  let afterCr = false;
  let type = '';
  let data: string[] = [];
  let id: string | undefined;
  return (chunk) => {
    // A CRLF split across chunks: the '\r' ended the line already, so drop the '\n'.
    buffer += afterCr && chunk[0] === '\n' ? chunk.slice(1) : chunk;
    afterCr = buffer.endsWith('\r');
    const lines = buffer.split(/\r\n|\r|\n/);
    // The last piece is an incomplete line (or ''): keep it.
    buffer = lines.pop() as string;
    for (const line of lines) {
      if (!line) {
        if (data[0] !== undefined) onEvent({ type: type || 'message', data: data.join('\n'), id });
        type = '';
        data = [];
      } else if (line[0] === ':') {
        onComment();
      } else {
        // `field`, or `field:value` with one leading space of the value dropped.
        const [, field, value] = /^([^:]*):? ?(.*)$/s.exec(line) as unknown as [string, string, string];
        if (field === 'event') type = value;
        else if (field === 'data') data.push(value);
        else if (field === 'id' && !value.includes('\0')) id = value;
      }
    }
  };
}
