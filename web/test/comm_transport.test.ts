import { afterEach, describe, expect, it, vi } from 'vitest';

import { ApiError } from '../src/api/api_error';
import { CommTransport, UPLOAD_CHUNK_BYTES, joinParts, sendLayout } from '../src/api/comm_transport';
import type { CommModel, CustomHandler } from '../src/api/comm_transport';

/** The model's two ends: what the page sent, and a way to answer as the kernel does. */
class Kernel implements CommModel {
  sent: { content: Record<string, unknown>; buffers: ArrayBuffer[] }[] = [];
  private handlers: CustomHandler[] = [];

  send(content: object, _callbacks?: unknown, buffers: ArrayBuffer[] = []): void {
    this.sent.push({ content: content as Record<string, unknown>, buffers });
  }

  on(_event: 'msg:custom', handler: CustomHandler): void {
    this.handlers.push(handler);
  }

  off(_event: 'msg:custom', handler: CustomHandler): void {
    this.handlers = this.handlers.filter((h) => h !== handler);
  }

  answer(content: object, buffer?: Uint8Array): void {
    // ipywidgets hands buffers over as DataViews.
    const buffers = buffer ? [new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength)] : [];
    for (const handler of this.handlers) handler(content, buffers);
  }

  lastId(): number {
    return this.sent.at(-1)!.content['id'] as number;
  }
}

const bytes = (n: number, seed = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) % 251);

async function flush(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 0));
}

describe('CommTransport', () => {
  let transport: CommTransport | null = null;
  afterEach(() => {
    transport?.dispose();
    vi.useRealTimers();
  });

  it('sends a request with its method, path, headers and body', async () => {
    const kernel = new Kernel();
    transport = new CommTransport(kernel);
    void transport.fetch('embeddings/a%2Fb/neighbors', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"k":3}',
    });
    await flush();
    const { content, buffers } = kernel.sent[0]!;
    expect(content).toMatchObject({ type: 'request', method: 'POST', url: 'embeddings/a%2Fb/neighbors', headers: { 'content-type': 'application/json' } });
    expect(new TextDecoder().decode(buffers[0])).toBe('{"k":3}');
  });

  it('joins a body that comes in pieces, in order, reporting each', async () => {
    const kernel = new Kernel();
    transport = new CommTransport(kernel);
    const body = bytes(25_000);
    const pending = transport.fetch('jobs/j/result');
    await flush();
    const id = kernel.lastId();
    const headers = [['content-length', String(body.length)], ['content-type', 'application/octet-stream']];
    kernel.answer({ type: 'response', id, status: 200, headers, done: false }, body.subarray(0, 10_000));
    const response = await pending;
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Length')).toBe('25000');
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(first.value).toEqual(body.subarray(0, 10_000));
    kernel.answer({ type: 'body', id, done: false }, body.subarray(10_000, 20_000));
    kernel.answer({ type: 'body', id, done: true }, body.subarray(20_000));
    const rest: Uint8Array[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest.push(value);
    }
    expect(new Uint8Array(joinParts([first.value!, ...rest]))).toEqual(body);
  });

  it('keeps the answers of concurrent requests apart', async () => {
    const kernel = new Kernel();
    transport = new CommTransport(kernel);
    const a = transport.fetch('runs');
    const b = transport.fetch('config');
    await flush();
    const [idA, idB] = kernel.sent.map((m) => m.content['id'] as number);
    kernel.answer({ type: 'response', id: idB, status: 200, headers: [], done: true }, new TextEncoder().encode('"b"'));
    kernel.answer({ type: 'response', id: idA, status: 404, headers: [], done: true }, new TextEncoder().encode('"a"'));
    expect(await (await b).json()).toBe('b');
    const answerA = await a;
    expect([answerA.status, await answerA.json()]).toEqual([404, 'a']);
  });

  it('fails a body that arrived incomplete instead of handing over short data', async () => {
    const kernel = new Kernel();
    transport = new CommTransport(kernel);
    const pending = transport.fetch('embeddings/e/metadata');
    await flush();
    const id = kernel.lastId();
    kernel.answer({ type: 'response', id, status: 200, headers: [['content-length', '100']], done: false }, bytes(40));
    kernel.answer({ type: 'body', id, done: true }, bytes(40));
    await expect((await pending).arrayBuffer()).rejects.toThrow('arrived incomplete: 80 of 100 bytes');
  });

  it('joins the pieces of a binary stream frame before handing it over', () => {
    const kernel = new Kernel();
    transport = new CommTransport(kernel);
    const socket = transport.openSocket('jobs/j/stream');
    const frames: (string | ArrayBuffer)[] = [];
    let closed = false;
    socket.onmessage = (data) => frames.push(data);
    socket.onclose = () => (closed = true);
    const id = kernel.lastId();
    expect(kernel.sent.at(-1)!.content).toEqual({ type: 'stream', id, url: 'jobs/j/stream' });
    const layout = new Float32Array([1, 2, 3, 4, 5, 6]);
    const raw = new Uint8Array(layout.buffer);
    kernel.answer({ type: 'frame', id, text: '{"type":"layout","iteration":10,"shape":[3,2]}' });
    kernel.answer({ type: 'frame', id, done: false }, raw.subarray(0, 10));
    kernel.answer({ type: 'frame', id, done: true }, raw.subarray(10));
    kernel.answer({ type: 'stream-close', id, code: 1000 });
    expect(frames[0]).toBe('{"type":"layout","iteration":10,"shape":[3,2]}');
    expect(new Float32Array(frames[1] as ArrayBuffer)).toEqual(layout);
    expect(closed).toBe(true);
    socket.close(); // closed already: nothing more is sent
    expect(kernel.sent.at(-1)!.content['type']).toBe('stream');
  });

  it('says when the kernel is silent, and when it answers again', async () => {
    vi.useFakeTimers();
    const kernel = new Kernel();
    const silences: boolean[] = [];
    transport = new CommTransport(kernel, (silent) => silences.push(silent), 5_000);
    void transport.fetch('config');
    await vi.advanceTimersByTimeAsync(4_000);
    expect(silences).toEqual([]);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(silences).toEqual([true]);
    kernel.answer({ type: 'response', id: kernel.lastId(), status: 200, headers: [], done: true });
    expect(silences).toEqual([true, false]);
  });

  it('fails what is open, and what comes later, once the kernel is gone', async () => {
    const kernel = new Kernel();
    transport = new CommTransport(kernel);
    const waiting = transport.fetch('config');
    const streaming = transport.fetch('embeddings/e/metadata');
    const socket = transport.openSocket('jobs/j/stream');
    let closed = false;
    socket.onclose = () => (closed = true);
    await flush();
    const metadata = kernel.sent.find((m) => m.content['url'] === 'embeddings/e/metadata')!.content['id'];
    kernel.answer({ type: 'response', id: metadata, status: 200, headers: [], done: false }, bytes(10));
    const started = await streaming;
    transport.fail('The kernel died.');
    await expect(waiting).rejects.toThrow(ApiError);
    await expect(waiting).rejects.toThrow('The kernel died.');
    await expect(started.arrayBuffer()).rejects.toThrow('The kernel died.');
    expect(closed).toBe(true);
    await expect(transport.fetch('runs')).rejects.toMatchObject({ status: 0, message: 'The kernel died.' });
  });
});

describe('sendLayout', () => {
  it('sends the layout to the kernel in pieces under Jupyter Server’s limit', () => {
    const kernel = new Kernel();
    const positions = new Float32Array((UPLOAD_CHUNK_BYTES * 2.5) / 4);
    for (let i = 0; i < positions.length; i++) positions[i] = i;
    sendLayout(kernel, positions, 2, 7);
    expect(kernel.sent.map((m) => m.content)).toEqual([
      { type: 'layout', id: 7, dims: 2, done: false },
      { type: 'layout', id: 7, dims: 2, done: false },
      { type: 'layout', id: 7, dims: 2, done: true },
    ]);
    expect(kernel.sent.map((m) => m.buffers[0]!.byteLength)).toEqual([UPLOAD_CHUNK_BYTES, UPLOAD_CHUNK_BYTES, UPLOAD_CHUNK_BYTES / 2]);
    const joined = joinParts(kernel.sent.map((m) => new Uint8Array(m.buffers[0]!)));
    expect(Buffer.compare(Buffer.from(joined), Buffer.from(positions.buffer))).toBe(0);
  });
});
