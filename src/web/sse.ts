/**
 * A server-sent events reader for a fetch() response (POST /api/ask streams; EventSource can only
 * GET). Follows the format's rules: fields per line, events end at a blank line, ':' comments.
 */
export interface SseEvent {
  event: string;
  data: string;
}

export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  let event = '';
  let data: string[] = [];
  const lines = function* (final: boolean) {
    for (;;) {
      const i = buf.search(/\r\n|\r|\n/);
      // A lone '\r' at the end may be half of '\r\n': wait for the next chunk.
      if (i < 0 || (!final && i === buf.length - 1 && buf[i] === '\r')) return;
      const line = buf.slice(0, i);
      buf = buf.slice(buf.startsWith('\r\n', i) ? i + 2 : i + 1);
      yield line;
    }
  };
  for (;;) {
    const { value, done } = await reader.read();
    buf += decoder.decode(value, { stream: !done });
    for (const line of lines(done)) {
      if (line === '') {
        if (data.length) yield { event: event || 'message', data: data.join('\n') };
        event = '';
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = val;
      else if (field === 'data') data.push(val);
    }
    if (done) {
      if (data.length) yield { event: event || 'message', data: data.join('\n') };
      return;
    }
  }
}
