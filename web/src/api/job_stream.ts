// Following a projection job: its status changes and, for t-SNE and UMAP, its intermediate
// layouts. The job stream carries both (JSON text frames, and a binary float32 frame after each
// `{"type": "layout"}` header): a WebSocket, or the widget's comm; where it cannot open (a proxy
// without WebSockets), the job is polled instead.

import { ApiError } from './api_error';
import type { ApiClient } from './client';
import type { JobSocket } from './transport';
import { FINAL_JOB_STATES } from './types';
import type { ErrorFrame, JobStatus, LayoutFrame, StatusFrame } from './types';

/** The rows of a layout that streams as a sample (more rows than the LOD threshold). */
export interface LayoutSample {
  rows: Int32Array;
  /** The layout's number of rows. */
  of: number;
}

export interface JobListener {
  onStatus: (status: JobStatus) => void;
  /** An intermediate layout (N × dims float32) at an iteration, or, for a layout above the
   * LOD threshold, the coordinates of `sample.rows` of it; of `step`, for timelines. `last`:
   * the job's final (or, cancelled, partial) layout, the status after it ends the job. */
  onLayout: (positions: Float32Array, iteration: number, sample: LayoutSample | null, step: number | null, last: boolean) => void;
}

export interface JobSubscription {
  close: () => void;
}

/** How often the polling fallback asks for the status (and the latest layout). */
export const DEFAULT_POLL_INTERVAL_MS = 700;

/** Follow the job `started` (the status its submission answered) until it ends. */
export function followJob(api: ApiClient, started: JobStatus, listener: JobListener): JobSubscription {
  const job = started.id;
  let last = started;
  let closed = false;
  let socket: JobSocket | null = null;
  let poller: ReturnType<typeof setTimeout> | null = null;
  let pendingLayout: LayoutFrame | null = null;
  /** A sample's coordinates, waiting for the frame of its rows. */
  let pendingPositions: Float32Array | null = null;
  /** A layout received whole, given with the status frame that follows it (the server sends
   * a layout before its status): that status says whether it is the job's last. */
  let received: { positions: Float32Array; iteration: number; sample: LayoutSample | null; step: number | null } | null = null;

  const close = (): void => {
    closed = true;
    if (poller !== null) clearTimeout(poller);
    socket?.close();
  };

  const onStatus = (status: JobStatus): void => {
    if (closed) return;
    last = status;
    listener.onStatus(status);
    if (FINAL_JOB_STATES.includes(status.state)) close();
  };

  const poll = async (): Promise<void> => {
    poller = null;
    if (closed) return;
    try {
      const status = await api.job(job);
      if (closed) return;
      if (status.state === 'running') {
        try {
          const layout = await api.jobResult(job);
          if (!closed) listener.onLayout(layout, status.iteration ?? 0, null, null, false);
        } catch (error) {
          // 409: no layout yet (the k-NN phase of t-SNE, say).
          if (!(error instanceof ApiError && error.status === 409)) throw error;
        }
      }
      onStatus(status);
    } catch (error) {
      if (closed) return;
      const message = error instanceof Error ? error.message : String(error);
      onStatus(failed(last, message));
      return;
    }
    if (!closed) poller = setTimeout(() => void poll(), DEFAULT_POLL_INTERVAL_MS);
  };

  socket = api.openStream(`jobs/${encodeURIComponent(job)}/stream`);
  if (!socket) {
    void poll();
    return { close };
  }
  socket.onmessage = (data) => {
    if (closed) return;
    if (typeof data === 'string') {
      const frame = JSON.parse(data) as StatusFrame | LayoutFrame | ErrorFrame;
      if (frame.type === 'layout') {
        pendingLayout = frame;
      } else if (frame.type === 'error') {
        onStatus(failed(last, frame.message));
      } else {
        if (received) {
          const { positions, iteration, sample, step } = received;
          received = null;
          listener.onLayout(positions, iteration, sample, step, FINAL_JOB_STATES.includes(frame.state));
        }
        onStatus(frame);
      }
    } else if (pendingLayout) {
      const { iteration, sample_of: of } = pendingLayout;
      const step = pendingLayout.step ?? null;
      if (of === null || of === undefined) {
        received = { positions: new Float32Array(data), iteration: iteration ?? 0, sample: null, step };
        pendingLayout = null;
      } else if (!pendingPositions) {
        pendingPositions = new Float32Array(data);
      } else {
        received = { positions: pendingPositions, iteration: iteration ?? 0, sample: { rows: new Int32Array(data), of }, step };
        pendingLayout = pendingPositions = null;
      }
    }
  };
  socket.onclose = () => {
    // A stream that never opened (or dropped before the job ended): poll until the end.
    if (!closed) void poll();
    socket = null;
  };
  return { close };
}

/** The job as failed, from what was last known of it (the stream or the polling failed). */
function failed(last: JobStatus, message: string): JobStatus {
  return { ...last, state: 'failed', paused: false, error: message };
}
