// Typed client of the HTTP API (docs/api.md), over a transport: HTTP from the page the server
// serves, or the Jupyter comm in the notebook widget (transport.ts).

import { tableFromIPC } from 'apache-arrow';
import type { Table } from 'apache-arrow';

import { errorFromResponse } from './api_error';
import { httpTransport } from './transport';
import type { JobSocket, Transport } from './transport';
import type {
  ClustersRequest,
  CompareRequest,
  CompareSide,
  Comparison,
  CustomProjectionRequest,
  DriftRequest,
  EmbeddingInfo,
  FaithfulnessRequest,
  JobStatus,
  LayoutInfo,
  Metric,
  NeighborsResult,
  ProjectionRequest,
  RunInfo,
  SelectRequest,
  ServerConfig,
  StepList,
  TimelineStarted,
  TileIndex,
} from './types';

/** Bytes received so far and the total (null when the server did not say). */
export type ProgressCallback = (loaded: number, total: number | null) => void;

/** One tile of a layout: its rows' coordinates (count × dims) and their row indices. */
export interface TileData {
  positions: Float32Array;
  rows: Int32Array;
}

export interface NeighborsQuery {
  k: number;
  metric: Metric;
  spherize: boolean;
}

/** A sprite atlas, decoded, and an object URL of its image (for CSS thumbnails). */
export interface SpriteImage {
  bitmap: ImageBitmap;
  url: string;
}

export class ApiClient {
  constructor(private transport: Transport = httpTransport()) {}

  /** Talk to the server another way from now on (the notebook widget's comm). */
  useTransport(transport: Transport): void {
    this.transport = transport;
  }

  /** The job stream of a path relative to the API (null where streams cannot open). */
  openStream(path: string): JobSocket | null {
    return this.transport.openSocket(path);
  }

  config(): Promise<ServerConfig> {
    return this.json('config');
  }

  runs(): Promise<RunInfo[]> {
    return this.json('runs');
  }

  embeddings(): Promise<EmbeddingInfo[]> {
    return this.json('embeddings');
  }

  async vectors(id: string, onProgress?: ProgressCallback): Promise<Float32Array> {
    return new Float32Array(await this.bytes(`embeddings/${enc(id)}/vectors`, onProgress));
  }

  /** The metadata table, as Arrow (one row per vector); only `columns`, when given. */
  async metadata(id: string, onProgress?: ProgressCallback, columns?: readonly string[]): Promise<Table> {
    const query = columns ? `?${new URLSearchParams(columns.map((c) => ['columns', c]))}` : '';
    return tableFromIPC(new Uint8Array(await this.bytes(`embeddings/${enc(id)}/metadata${query}`, onProgress)));
  }

  /** The metadata (every column) of some rows, in that order. */
  async rows(id: string, rows: Int32Array): Promise<Table> {
    return tableFromIPC(new Uint8Array(await this.bytes(`embeddings/${enc(id)}/rows`, undefined, int32Body(rows))));
  }

  /** The atlas; its `url` is the caller's to revoke (`URL.revokeObjectURL`). */
  async sprite(id: string): Promise<SpriteImage> {
    const blob = await (await this.fetch(`embeddings/${enc(id)}/sprite`)).blob();
    // No premultiplication or colour conversion: thumbnails are drawn as stored.
    const bitmap = await createImageBitmap(blob, { premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
    return { bitmap, url: URL.createObjectURL(blob) };
  }

  bookmarks(id: string): Promise<unknown[]> {
    return this.json(`embeddings/${enc(id)}/bookmarks`);
  }

  async saveBookmarks(id: string, bookmarks: unknown[]): Promise<void> {
    await this.fetch(`embeddings/${enc(id)}/bookmarks`, { ...jsonBody(bookmarks), method: 'PUT' });
  }

  /** Tell the server what is selected (Python's `show().selection` reads it back). */
  async putSelection(id: string, rows: Int32Array): Promise<void> {
    await this.fetch(`embeddings/${enc(id)}/selection`, { ...int32Body(rows), method: 'PUT' });
  }

  async search(id: string, q: string, column: string, regex: boolean): Promise<Int32Array> {
    const query = new URLSearchParams({ q, column, regex: String(regex) });
    return new Int32Array(await this.bytes(`embeddings/${enc(id)}/search?${query}`));
  }

  /** Nearest neighbours of one row, or of the centroid of several rows (the rows excluded);
   *  `step`: in one of the embedding's steps instead of its own vectors. */
  neighbors(id: string, rows: ArrayLike<number>, query: NeighborsQuery, step: number | null = null): Promise<NeighborsResult> {
    const common = { k: query.k, metric: query.metric, spherize: query.spherize };
    if (rows.length === 1) {
      const params = new URLSearchParams({ index: String(rows[0]), ...stringify(common) });
      if (step !== null) params.set('step', String(step));
      return this.json(`embeddings/${enc(id)}/neighbors?${params}`);
    }
    return this.postJson(`embeddings/${enc(id)}/neighbors${stepQuery(step)}`, { indices: Array.from(rows), ...common });
  }

  /** A projection job of the embedding, or of one of its steps (`step`). */
  submitProjection(id: string, request: ProjectionRequest, step: number | null = null): Promise<JobStatus> {
    return this.postJson(`embeddings/${enc(id)}/projections${stepQuery(step)}`, request);
  }

  /** The steps of an embedding (its checkpoints), oldest first. */
  steps(id: string): Promise<StepList> {
    return this.json(`embeddings/${enc(id)}/steps`);
  }

  /** A timeline job: every step that can be aligned, projected so they morph into each other. */
  submitTimeline(id: string, request: ProjectionRequest): Promise<TimelineStarted> {
    return this.postJson(`embeddings/${enc(id)}/timeline`, request);
  }

  /** A drift job: per point and step, the share of its neighbours kept (N × 2 per step). */
  submitDrift(id: string, request: DriftRequest): Promise<TimelineStarted> {
    return this.postJson(`embeddings/${enc(id)}/drift`, request);
  }

  async customProjection(id: string, request: CustomProjectionRequest): Promise<Float32Array> {
    return new Float32Array(await this.bytes(`embeddings/${enc(id)}/custom-projection`, undefined, jsonBody(request)));
  }

  /** Pair the rows of two embeddings and start the overlap of their k-NN sets. */
  compare(request: CompareRequest): Promise<Comparison> {
    return this.postJson('compare', request);
  }

  /** For each row of `a`, the row of `b` that is the same item. */
  async compareAlignment(a: CompareSide, b: CompareSide): Promise<Int32Array> {
    return new Int32Array(await this.bytes('compare/alignment', undefined, jsonBody({ a, b })));
  }

  /** Faithfulness of a finished layout: a job (see `jobResult`, `JobStatus.summary`). */
  startFaithfulness(id: string, request: FaithfulnessRequest): Promise<JobStatus> {
    return this.postJson(`embeddings/${enc(id)}/faithfulness`, request);
  }

  /** Clusters of a finished layout: a job whose result is int32 labels (`jobLabels`). */
  startClusters(id: string, request: ClustersRequest): Promise<JobStatus> {
    return this.postJson(`embeddings/${enc(id)}/clusters`, request);
  }

  async jobLabels(job: string): Promise<Int32Array> {
    return new Int32Array(await this.bytes(`jobs/${enc(job)}/result`));
  }

  /** The custom projection registered as a layout (for tiles), without its coordinates. */
  customLayout(id: string, request: CustomProjectionRequest): Promise<LayoutInfo> {
    return this.postJson(`embeddings/${enc(id)}/custom-projection/layout`, request);
  }

  /** Register a job's layout on the server (for tiles and selection by shape). */
  jobLayout(job: string): Promise<LayoutInfo> {
    return this.json(`jobs/${enc(job)}/layout`);
  }

  tileIndex(layout: string): Promise<TileIndex> {
    return this.json(`layouts/${enc(layout)}/tiles`);
  }

  /** A tile at `depth` and integer `cell` (x, y or x, y, z). */
  async tile(layout: string, depth: number, cell: readonly number[]): Promise<TileData> {
    const [x, y, z] = cell;
    const path = `layouts/${enc(layout)}/tiles/${depth}/${x}/${y}${z === undefined ? '' : `?z=${z}`}`;
    const response = await this.fetch(path);
    const [count = 0, dims = 2] = (response.headers.get('X-Shape') ?? '').split(',').map(Number);
    const body = await response.arrayBuffer();
    return {
      positions: new Float32Array(body, 0, count * dims),
      rows: new Int32Array(body, count * dims * 4, count),
    };
  }

  /** The coordinates of some rows of a layout (rows × dims float32). */
  async layoutPositions(layout: string, rows: Int32Array): Promise<Float32Array> {
    return new Float32Array(await this.bytes(`layouts/${enc(layout)}/positions`, undefined, int32Body(rows)));
  }

  /** Every row of a layout drawn inside a rectangle or lasso, decided on the server. */
  async selectInShape(layout: string, request: SelectRequest): Promise<Int32Array> {
    return new Int32Array(await this.bytes(`layouts/${enc(layout)}/select`, undefined, jsonBody(request)));
  }

  job(job: string): Promise<JobStatus> {
    return this.json(`jobs/${enc(job)}`);
  }

  async jobResult(job: string, onProgress?: ProgressCallback): Promise<Float32Array> {
    return new Float32Array(await this.bytes(`jobs/${enc(job)}/result`, onProgress));
  }

  /** One step of a timeline job. */
  async stepResult(job: string, step: number): Promise<Float32Array> {
    return new Float32Array(await this.bytes(`jobs/${enc(job)}/result?step=${step}`));
  }

  async cancelJob(job: string): Promise<void> {
    await this.fetch(`jobs/${enc(job)}`, { method: 'DELETE' });
  }

  /** t-SNE control while it runs. */
  controlJob(job: string, action: 'pause' | 'resume' | 'perturb'): Promise<JobStatus> {
    return this.json(`jobs/${enc(job)}/${action}`, { method: 'POST' });
  }

  // ---- transport -------------------------------------------------------------------------

  private async fetch(path: string, init?: RequestInit): Promise<Response> {
    const response = await this.transport.fetch(path, init);
    if (!response.ok) throw await errorFromResponse(response);
    return response;
  }

  private postJson<T>(path: string, body: unknown): Promise<T> {
    return this.json(path, jsonBody(body));
  }

  private async json<T>(path: string, init?: RequestInit): Promise<T> {
    return (await (await this.fetch(path, init)).json()) as T;
  }

  /** The body as bytes, read in chunks so that big downloads report their progress. */
  private async bytes(path: string, onProgress?: ProgressCallback, init?: RequestInit): Promise<ArrayBuffer> {
    const response = await this.fetch(path, init);
    if (!onProgress || !response.body) return response.arrayBuffer();
    const length = Number(response.headers.get('Content-Length'));
    const total = Number.isFinite(length) && length > 0 ? length : null;
    return readWithProgress(response.body, total, onProgress);
  }
}

async function readWithProgress(
  body: ReadableStream<Uint8Array>,
  total: number | null,
  onProgress: ProgressCallback,
): Promise<ArrayBuffer> {
  const reader = body.getReader();
  // With a known length, chunks land in one buffer: no second copy of a big array.
  let buffer = new Uint8Array(total ?? 1 << 20);
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (loaded + value.length > buffer.length) {
      const bigger = new Uint8Array(Math.max(buffer.length * 2, loaded + value.length));
      bigger.set(buffer.subarray(0, loaded));
      buffer = bigger;
    }
    buffer.set(value, loaded);
    loaded += value.length;
    onProgress(loaded, total);
  }
  return loaded === buffer.length ? buffer.buffer : buffer.slice(0, loaded).buffer;
}

/** A POST of row indices as int32 bytes. */
function int32Body(rows: Int32Array): RequestInit {
  return { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: rows.slice().buffer };
}

/** A POST of a JSON body (spread it and set `method` for another verb). */
function jsonBody(body: unknown): RequestInit {
  return { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
}

function enc(part: string): string {
  return encodeURIComponent(part);
}

/** `?step=N` for a route that can read one step of an embedding; nothing for its own vectors. */
function stepQuery(step: number | null): string {
  return step === null ? '' : `?step=${step}`;
}

function stringify(values: Record<string, string | number | boolean>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)]));
}
