// The API over the Jupyter comm of the notebook widget: each request is a message to the
// kernel, which answers it with the server's own app (src/embedding_projector/widget.py, where
// the messages are described). A response comes back as a `response` message and, for big
// bodies, `body` messages of at most 8 MiB each, joined here into the Response's stream (with
// its progress); the job stream's frames come as `frame` messages. Nothing here opens a
// connection of its own: the notebook's connection to its kernel carries everything.

import { ApiError, NETWORK_ERROR_CODE } from './api_error';
import type { JobSocket, Transport } from './transport';

/** What the transport uses of an anywidget model (`model.send`, `msg:custom`). */
export interface CommModel {
  send(content: object, callbacks?: unknown, buffers?: ArrayBuffer[]): void;
  on(event: 'msg:custom', handler: CustomHandler): void;
  off(event: 'msg:custom', handler: CustomHandler): void;
}

export type CustomHandler = (content: unknown, buffers?: readonly (ArrayBuffer | ArrayBufferView)[]) => void;

type KernelMessage =
  | { type: 'response'; id: number; status: number; headers: [string, string][]; done: boolean }
  | { type: 'body'; id: number; done: boolean }
  | { type: 'frame'; id: number; text?: string; done?: boolean }
  | { type: 'stream-close'; id: number; code: number };

interface PendingRequest {
  resolve: (response: Response) => void;
  reject: (error: ApiError) => void;
  /** Set once the response started: its body's stream. */
  body: ReadableStreamDefaultController<Uint8Array> | null;
  expected: number | null;
  received: number;
  sentAt: number;
}

interface OpenStream {
  socket: JobSocket;
  parts: Uint8Array[];
}

/** A request unanswered this long means the kernel is busy running a cell, or gone. */
export const DEFAULT_SILENCE_MS = 15_000;
/** Statuses whose Response cannot have a body (the Response constructor refuses one). */
const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

export class CommTransport implements Transport {
  private nextId = 1;
  private readonly requests = new Map<number, PendingRequest>();
  private readonly streams = new Map<number, OpenStream>();
  private gone: string | null = null;
  private silent = false;
  private readonly watchdog: ReturnType<typeof setInterval>;

  /**
   * @param onSilence told when a request has waited `silenceMs` for its answer (true), and when
   *   the kernel answers again (false).
   */
  constructor(
    private readonly model: CommModel,
    private readonly onSilence: (silent: boolean) => void = () => {},
    private readonly silenceMs: number = DEFAULT_SILENCE_MS,
  ) {
    model.on('msg:custom', this.receive);
    this.watchdog = setInterval(() => this.checkSilence(), Math.min(1000, silenceMs));
  }

  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    if (this.gone !== null) return Promise.reject(this.goneError());
    const id = this.nextId++;
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    return new Promise<Response>((resolve, reject) => {
      this.requests.set(id, { resolve, reject, body: null, expected: null, received: 0, sentAt: Date.now() });
      const body = bodyBytes(init.body);
      this.model.send({ type: 'request', id, method: init.method ?? 'GET', url: path, headers }, undefined, body ? [body] : []);
    });
  }

  openSocket(path: string): JobSocket {
    const id = this.nextId++;
    const socket: JobSocket = {
      onmessage: null,
      onclose: null,
      close: () => {
        if (!this.streams.delete(id)) return;
        if (this.gone === null) this.model.send({ type: 'stream-close', id });
      },
    };
    if (this.gone !== null) {
      queueMicrotask(() => socket.onclose?.());
      return socket;
    }
    this.streams.set(id, { socket, parts: [] });
    this.model.send({ type: 'stream', id, url: path });
    return socket;
  }

  /** The kernel is gone: open requests and streams fail with `reason`, and so will later ones. */
  fail(reason: string): void {
    if (this.gone !== null) return;
    this.gone = reason;
    for (const request of this.requests.values()) {
      if (request.body) request.body.error(this.goneError());
      else request.reject(this.goneError());
    }
    this.requests.clear();
    for (const { socket } of this.streams.values()) socket.onclose?.();
    this.streams.clear();
  }

  dispose(): void {
    clearInterval(this.watchdog);
    this.model.off('msg:custom', this.receive);
  }

  private readonly receive: CustomHandler = (content, buffers = []) => {
    const message = content as KernelMessage;
    if (typeof message !== 'object' || message === null || typeof message.id !== 'number') return;
    if (this.silent) {
      this.silent = false;
      this.onSilence(false);
    }
    const piece = buffers[0] ? bytesOf(buffers[0]) : null;
    if (message.type === 'response' || message.type === 'body') this.onBody(message, piece);
    else if (message.type === 'frame') this.onFrame(message, piece);
    else if (message.type === 'stream-close') {
      const stream = this.streams.get(message.id);
      this.streams.delete(message.id);
      stream?.socket.onclose?.();
    }
  };

  private onBody(message: Extract<KernelMessage, { type: 'response' | 'body' }>, piece: Uint8Array | null): void {
    const request = this.requests.get(message.id);
    if (!request) return;
    if (message.type === 'response') {
      const headers = new Headers(message.headers);
      const length = Number(headers.get('Content-Length'));
      request.expected = headers.has('Content-Length') && Number.isFinite(length) ? length : null;
      const body = new ReadableStream<Uint8Array>({
        start: (controller) => {
          request.body = controller;
        },
      });
      request.resolve(new Response(NULL_BODY_STATUS.has(message.status) ? null : body, { status: message.status, headers }));
    }
    const body = request.body;
    if (!body) return;
    if (piece && piece.length > 0) {
      request.received += piece.length;
      body.enqueue(piece);
    }
    if (!message.done) return;
    this.requests.delete(message.id);
    if (request.expected !== null && request.received !== request.expected) {
      body.error(new ApiError(0, NETWORK_ERROR_CODE, `The answer from the kernel arrived incomplete: ${request.received} of ${request.expected} bytes.`));
    } else {
      body.close();
    }
  }

  private onFrame(message: Extract<KernelMessage, { type: 'frame' }>, piece: Uint8Array | null): void {
    const stream = this.streams.get(message.id);
    if (!stream) return;
    if (message.text !== undefined) {
      stream.socket.onmessage?.(message.text);
      return;
    }
    if (piece) stream.parts.push(piece);
    if (!message.done) return;
    const frame = joinParts(stream.parts);
    stream.parts = [];
    stream.socket.onmessage?.(frame);
  }

  private checkSilence(): void {
    if (this.silent || this.gone !== null) return;
    const now = Date.now();
    for (const request of this.requests.values()) {
      if (!request.body && now - request.sentAt > this.silenceMs) {
        this.silent = true;
        this.onSilence(true);
        return;
      }
    }
  }

  private goneError(): ApiError {
    return new ApiError(0, NETWORK_ERROR_CODE, this.gone ?? 'The kernel is gone.');
  }
}

/** The most bytes of one message to the kernel: Jupyter Server refuses messages over 10 MiB. */
export const UPLOAD_CHUNK_BYTES = 4 * 2 ** 20;

/**
 * The layout the page shows, to the kernel (the widget's `layout` trait): its float32 bytes in
 * `layout` messages of at most UPLOAD_CHUNK_BYTES, the last one `done`.
 */
export function sendLayout(model: Pick<CommModel, 'send'>, positions: Float32Array, dims: number, id: number): void {
  const bytes = new Uint8Array(positions.buffer, positions.byteOffset, positions.byteLength);
  for (let offset = 0; offset < Math.max(bytes.length, 1); offset += UPLOAD_CHUNK_BYTES) {
    const piece = bytes.slice(offset, offset + UPLOAD_CHUNK_BYTES);
    const done = offset + UPLOAD_CHUNK_BYTES >= bytes.length;
    model.send({ type: 'layout', id, dims, done }, undefined, [piece.buffer]);
  }
}

/** The pieces of a frame as one buffer. */
export function joinParts(parts: readonly Uint8Array[]): ArrayBuffer {
  if (parts.length === 1 && parts[0]!.byteOffset === 0 && parts[0]!.byteLength === parts[0]!.buffer.byteLength) {
    return parts[0]!.buffer as ArrayBuffer;
  }
  const joined = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined.buffer;
}

function bytesOf(buffer: ArrayBuffer | ArrayBufferView): Uint8Array {
  return buffer instanceof ArrayBuffer ? new Uint8Array(buffer) : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** A request body as bytes: the client sends JSON text or binary arrays. */
function bodyBytes(body: BodyInit | null | undefined): ArrayBuffer | null {
  if (body === null || body === undefined) return null;
  if (typeof body === 'string') return new TextEncoder().encode(body).buffer;
  if (body instanceof ArrayBuffer) return body;
  if (ArrayBuffer.isView(body)) return bytesOf(body).slice().buffer;
  throw new TypeError('the widget sends request bodies of text or bytes only');
}
