// How the API client reaches the server: over HTTP from the page the server serves, or over
// the Jupyter comm from the notebook widget (comm_transport.ts). Both speak in fetch()'s terms
// (a Response), so that the client reads answers, errors and progress the same way.

import { ApiError, NETWORK_ERROR_CODE } from './api_error';

/** The job stream (the `jobs/{id}/stream` route): JSON text frames and binary layout frames. */
export interface JobSocket {
  onmessage: ((data: string | ArrayBuffer) => void) | null;
  /** The stream ended (or never opened). */
  onclose: (() => void) | null;
  close(): void;
}

export interface Transport {
  /** fetch() of a path relative to the API (`embeddings/…`); network failures are ApiErrors. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Open the job stream at a path relative to the API; null where streams cannot open. */
  openSocket(path: string): JobSocket | null;
}

/** The HTTP API of the server that serves this page (relative URLs: works behind a proxy). */
export function httpTransport(base: URL = new URL('api/', document.baseURI)): Transport {
  return {
    async fetch(path, init) {
      try {
        return await fetch(new URL(path, base), init);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new ApiError(0, NETWORK_ERROR_CODE, `The server did not answer (${reason}). Is \`projector\` still running?`);
      }
    },
    openSocket(path) {
      const url = new URL(path, base);
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      try {
        return webSocket(new WebSocket(url));
      } catch {
        return null;
      }
    },
  };
}

function webSocket(socket: WebSocket): JobSocket {
  socket.binaryType = 'arraybuffer';
  let opened = false;
  const stream: JobSocket = {
    onmessage: null,
    onclose: null,
    close: () => socket.close(),
  };
  socket.onopen = () => {
    opened = true;
  };
  socket.onmessage = (event: MessageEvent<string | ArrayBuffer>) => stream.onmessage?.(event.data);
  socket.onclose = () => stream.onclose?.();
  // A socket that cannot open (a proxy without WebSockets) errors, then closes.
  socket.onerror = () => {
    if (!opened) socket.close();
  };
  return stream;
}
