// The app's one store: everything the panels show and the plot draws, as Svelte runes.
// Big per-point data (layouts, masks, columns) is held raw (`$state.raw`): replaced, never
// mutated, so Svelte never wraps a million-element array in proxies.

import type { ColumnInfo, EmbeddingInfo, JobStatus, LayoutInfo, RunInfo, ServerConfig, TileIndex } from '../api/types';
import { cellText, cells, prefersCategorical, sequencePairs } from '../data/columns';
import type { Column } from '../data/columns';
import type { LocalVectors } from '../data/local_compute';
import { colorByCodes, colorByColumn, colorByNumber } from '../render';
import type { Bounds, ColorMapping, Dims, LayoutTransition, ScatterPlot, SelectionMode, ThemeName } from '../render';
import type { AnalysisState, ClustersResult, FaithfulnessResult, LayoutSource } from './map_reading';
import { DEFAULT_FAITHFULNESS_K } from './map_reading';
import type { Bookmark } from './bookmarks';
import { DEFAULT_NEIGHBORS, defaultProjection } from './view_state';
import type { NeighborSettings, ProjectionKind, ProjectionSettings } from './view_state';

export interface Layout {
  /** N × dims; empty when the layout stays on the server (`server`). */
  positions: Float32Array;
  dims: Dims;
  kind: ProjectionKind;
  transition: LayoutTransition;
  /** The frame the plot fits instead of the layout's own bounds (the steps of a timeline). */
  frame?: Bounds | undefined;
  /** A layout of more points than the server's `lod_threshold`: the page draws its tiles. */
  server?: { info: LayoutInfo; index: TileIndex };
  /** `positions` are those of these rows only: a sample of a layout above the threshold that
   * is still streaming (a t-SNE running). */
  sample?: { rows: Int32Array; of: number };
}

/** Positions of a few rows of a layout on the server (highlighted, labelled, isolated). */
export interface RowPositions {
  layout: string;
  rows: Int32Array;
  positions: Float32Array;
}

export interface Neighbors {
  indices: Int32Array;
  distances: Float64Array;
  /** Of one point, or of the centroid of a selection of several. */
  of: 'point' | 'centroid';
}

export interface SearchState {
  query: string;
  regex: boolean;
  column: string | null;
  results: Int32Array;
  /** The query the results are for (the one typed may be newer). */
  searched: string;
  error: string | null;
}

export interface Banner {
  id: number;
  kind: 'error' | 'warning';
  text: string;
  /** A warning about one embedding: it goes when another is opened. */
  embedding?: string;
}

export interface LoadingState {
  label: string;
  /** 0..1, or null while the size is unknown. */
  progress: number | null;
}

export const EMPTY_INDICES = new Int32Array(0);
/** Label text size range of the "Label size" setting, CSS px. */
export const LABEL_SIZE_RANGE: [number, number] = [10, 28];

let nextBannerId = 1;

class AppStore {
  config = $state.raw<ServerConfig | null>(null);
  runs = $state.raw<RunInfo[]>([]);
  embeddings = $state.raw<EmbeddingInfo[]>([]);

  /** The embedding shown; vectors loaded from a file in the page have `local` set too. */
  embedding = $state.raw<EmbeddingInfo | null>(null);
  local = $state.raw<LocalVectors | null>(null);
  columns = $state.raw<Column[]>([]);
  /** Per-point values computed in the page (a timeline's drift), offered as "Color by" choices. */
  computed = $state.raw<Column[]>([]);
  /** Columns the page does not load (too many distinct values above the LOD threshold): the
   * server searches them, and sends their cells for the rows shown (`rowCells`). */
  servedColumns = $state.raw<ColumnInfo[]>([]);
  /** Cells of the served columns, for the rows fetched so far (row → column → text). */
  rowCells = $state.raw<ReadonlyMap<number, Readonly<Record<string, string>>>>(new Map());
  /** The metadata was edited ("Tag selection as") or replaced by a file in the page. */
  metadataEdited = $state(false);
  sprite = $state.raw<ImageBitmap | null>(null);
  spriteUrl = $state<string | null>(null);
  loading = $state<LoadingState | null>(null);

  projection = $state<ProjectionSettings>(defaultProjection());
  layout = $state.raw<Layout | null>(null);
  /** How many points the plot draws of the layout's (fewer above the LOD threshold). */
  shown = $state.raw<{ count: number; total: number; level: number | null } | null>(null);
  rowPositions = $state.raw<RowPositions | null>(null);
  job = $state.raw<JobStatus | null>(null);
  /** Explained variance of the first 10 principal components (PCA tab). */
  explainedVariance = $state.raw<number[] | null>(null);
  /** A note in place of a projection that cannot run here (t-SNE on vectors loaded in the page). */
  projectionNote = $state<string | null>(null);

  selection = $state.raw<Int32Array>(EMPTY_INDICES);
  neighbors = $state.raw<Neighbors | null>(null);
  neighborSettings = $state<NeighborSettings>({ ...DEFAULT_NEIGHBORS });
  isolated = $state.raw<Int32Array | null>(null);
  hovered = $state<number | null>(null);
  search = $state<SearchState>({ query: '', regex: false, column: null, results: EMPTY_INDICES, searched: '', error: null });

  colorBy = $state<string | null>(null);
  categorical = $state<boolean | null>(null);
  labelBy = $state<string | null>(null);
  labelSize = $state(14);
  theme = $state<ThemeName>('light');
  mouseMode = $state<SelectionMode>('navigate');
  showSprites = $state(true);
  /** The density layer under the points; null: on above DENSITY_DEFAULT_FROM points. */
  showDensity = $state<boolean | null>(null);
  editColumn = $state<string | null>(null);

  /** Reading the map (state/analyses.svelte.ts): the layout shown, as the server can name it. */
  layoutSource = $state.raw<LayoutSource | null>(null);
  faithfulness = $state.raw<AnalysisState<FaithfulnessResult> | null>(null);
  faithfulnessK = $state(DEFAULT_FAITHFULNESS_K);
  clusters = $state.raw<AnalysisState<ClustersResult> | null>(null);
  /** The selected point's true neighbours that the layout put elsewhere (highlighted). */
  missingNeighbors = $state.raw<Int32Array | null>(null);
  /** Highlight the missing neighbours on the map instead of the nearest ones. */
  showMissing = $state(false);

  bookmarks = $state.raw<Bookmark[]>([]);
  activeBookmark = $state<number | null>(null);
  banners = $state.raw<Banner[]>([]);
  helpOpen = $state(false);

  /** The plot, once mounted (for camera and image), and its height in CSS px (for cameras). */
  plot = $state.raw<ScatterPlot | null>(null);
  plotHeight = $state(600);

  get n(): number {
    return this.embedding?.shape[0] ?? 0;
  }

  /** More points than the server's `lod_threshold`: layouts come as tiles, some columns are
   * served rather than loaded. */
  get large(): boolean {
    return !this.local && this.config !== null && this.n > this.config.lod_threshold;
  }

  /** Every column by name, loaded or served, in the server's order (for "Label by" and search). */
  get columnNames(): string[] {
    const served = new Set(this.servedColumns.map((c) => c.name));
    const order = this.embedding?.columns.map((c) => c.name) ?? [];
    const loaded = this.columns.map((c) => c.name).filter((name) => !order.includes(name));
    return [...order.filter((name) => served.has(name) || this.columns.some((c) => c.name === name)), ...loaded];
  }

  isServed(name: string | null): boolean {
    return name !== null && this.servedColumns.some((c) => c.name === name);
  }

  column(name: string | null): Column | null {
    if (name === null) return null;
    return this.columns.find((c) => c.name === name) ?? this.computed.find((c) => c.name === name) ?? null;
  }

  /** Colours of the points by the "Color by" column (null: one colour). */
  readonly colorMapping: ColorMapping | null = $derived.by(() => {
    const column = this.column(this.colorBy);
    if (!column || this.n === 0) return null;
    // Straight from the typed arrays: ten million rows must not become ten million cells.
    if (column.kind !== 'numeric') return colorByCodes(column.codes, column.categories);
    if (!(this.categorical ?? prefersCategorical(column))) return colorByNumber(column.values);
    return colorByColumn(cells(column), 'numeric', { categorical: true });
  });

  /** The label of a point: its "Label by" cell, else its index. */
  pointLabel(i: number): string {
    const column = this.column(this.labelBy);
    const text = column ? cellText(column, i) : this.labelBy !== null ? (this.rowCells.get(i)?.[this.labelBy] ?? '') : '';
    return text === '' ? `#${i}` : text;
  }

  readonly sequences: Int32Array | null = $derived(sequencePairs(this.columns));

  addBanner(kind: Banner['kind'], text: string, embedding?: string): void {
    if (this.banners.some((b) => b.text === text)) return;
    this.banners = [...this.banners, { id: nextBannerId++, kind, text, ...(embedding && { embedding }) }];
  }

  dismissBanner(id: number): void {
    this.banners = this.banners.filter((b) => b.id !== id);
  }

  /** Report an error of an action as a banner (the server's message, or the exception's). */
  fail(what: string, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.addBanner('error', `${what}: ${message}`);
  }
}

/** Night mode as last chosen in the page, else as the system (or the notebook) prefers. */
export function initialTheme(remembered: boolean): ThemeName {
  const saved = remembered ? localStorage.getItem('projector-theme') : null;
  if (saved === 'light' || saved === 'dark') return saved;
  // JupyterLab says whether its theme is light on <body>; other notebooks follow the system.
  const jupyterLight = document.body.dataset['jpThemeLight'];
  if (jupyterLight !== undefined) return jupyterLight === 'false' ? 'dark' : 'light';
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export const app = new AppStore();
