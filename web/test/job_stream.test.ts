import { describe, expect, it } from 'vitest';

import { ApiClient } from '../src/api/client';
import { followJob } from '../src/api/job_stream';
import type { JobSocket, Transport } from '../src/api/transport';
import type { JobStatus } from '../src/api/types';

/** A job stream whose frames the test sends, as the server would. */
class Stream implements JobSocket {
  onmessage: ((data: string | ArrayBuffer) => void) | null = null;
  onclose: (() => void) | null = null;
  closed = false;

  close(): void {
    this.closed = true;
  }

  status(state: JobStatus['state'], iteration: number | null = null): void {
    this.onmessage?.(JSON.stringify({ ...started, type: 'status', state, iteration }));
  }

  layout(values: number[], iteration: number): void {
    this.onmessage?.(JSON.stringify({ type: 'layout', iteration, shape: [values.length / 2, 2] }));
    this.onmessage?.(Float32Array.from(values).buffer);
  }
}

const started: JobStatus = {
  id: 'j1', method: 'tsne', dims: 2, state: 'running', paused: false, progress: 0, iteration: null,
  message: null, error: null, cached: false, has_layout: false, elapsed: null, components: null,
  explained_variance_ratio: null, steps: null, steps_done: null, summary: null,
};

function follow(): { stream: Stream; events: string[] } {
  const stream = new Stream();
  const transport: Transport = { fetch: () => Promise.reject(new Error('no fetch')), openSocket: () => stream };
  const events: string[] = [];
  followJob(new ApiClient(transport), started, {
    onStatus: (s) => events.push(`status ${s.state}`),
    onLayout: (positions, iteration, _sample, _step, last) => events.push(`layout ${positions.length} @${iteration}${last ? ' last' : ''}`),
  });
  return { stream, events };
}

describe('followJob', () => {
  it('gives each layout with the status after it, the last one marked as the job ends', () => {
    const { stream, events } = follow();
    stream.layout([0, 0, 1, 1], 50);
    stream.status('running', 50);
    stream.layout([0, 0, 2, 2], 100);
    stream.status('done', 100);
    expect(events).toEqual(['layout 4 @50', 'status running', 'layout 4 @100 last', 'status done']);
    expect(stream.closed).toBe(true);
  });

  it('marks the partial layout of a cancelled job as its last', () => {
    const { stream, events } = follow();
    stream.layout([0, 0, 1, 1], 10);
    stream.status('cancelled', 10);
    expect(events).toEqual(['layout 4 @10 last', 'status cancelled']);
  });
});
