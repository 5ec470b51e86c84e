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

/** @internal Feed text chunks with `push`; complete events and comments come out through the callbacks. */
export class SseParser {
  #buffer = '';
  #afterCr = false;
  #type = '';
  #data: string[] = [];
  #id: string | undefined;
  readonly #onEvent: (ev: SseEvent) => void;
  readonly #onComment: () => void;

  constructor(onEvent: (ev: SseEvent) => void, onComment: () => void) {
    this.#onEvent = onEvent;
    this.#onComment = onComment;
  }

  push(chunk: string): void {
    // A CRLF split across chunks: the '\r' ended the line already, so drop the '\n'.
    this.#buffer += this.#afterCr && chunk.startsWith('\n') ? chunk.slice(1) : chunk;
    this.#afterCr = this.#buffer.endsWith('\r');
    const lines = this.#buffer.split(/\r\n|\r|\n/);
    // The last piece is an incomplete line (or ''): keep it.
    this.#buffer = lines.pop() ?? '';
    for (const line of lines) this.#line(line);
  }

  #line(line: string): void {
    if (line === '') {
      if (this.#data.length > 0) this.#onEvent({ type: this.#type || 'message', data: this.#data.join('\n'), id: this.#id });
      this.#type = '';
      this.#data = [];
      return;
    }
    if (line.startsWith(':')) {
      this.#onComment();
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.#type = value;
    else if (field === 'data') this.#data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.#id = value;
  }
}
