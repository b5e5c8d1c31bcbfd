// The projection methods' parameters as the server declares them (`GET /api/config`, one
// record per method in Python): what a control offers for N points, and the value a setting
// left at its default stands for. Pure functions of the served records.

import type { MethodInfo, ParamInfo, ProjectionMethod, ProjectionRequest, RequestParams, ServerConfig } from '../api/types';
import type { ProjectionSettings, TsneSettings, UmapSettings } from './view_state';

/** A numeric parameter as a slider or number input offers it. */
export interface NumberControl {
  min: number;
  max: number;
  step: number;
  /** The value when the user has not chosen one (lowered to fit N where N bounds it). */
  value: number;
}

/** The record of one parameter of a method. */
export function paramInfo<M extends ProjectionMethod>(
  config: ServerConfig,
  method: M,
  name: keyof RequestParams<M> & string,
): ParamInfo {
  const info: MethodInfo = config.methods[method];
  const found = info.params[name];
  if (!found) throw new Error(`the server declares no parameter ${name} for ${info.title}`);
  return found;
}

/** How many principal components the server offers (0 before its records arrive). */
export function pcaComponents(config: ServerConfig | null): number {
  const high = config ? paramInfo(config, 'pca', 'components').high : null;
  return high === null ? 0 : high + 1;
}

/** How many of n points a t-SNE or UMAP is fitted on (every other one is then placed into
 * that layout by the method's `transform`), or null when it is fitted on all of them. */
export function fittedOn(config: ServerConfig, n: number): number | null {
  return n > config.sample.above ? config.sample.size : null;
}

/** Where a t-SNE or UMAP of n points runs and on which points, for the controls' hint. */
export function runsOn(config: ServerConfig, n: number): string {
  const where = config.cluster ? 'on the Dask cluster' : 'on the server';
  const count = (k: number): string => k.toLocaleString('en-US');
  const sample = fittedOn(config, n);
  if (sample === null) return `Runs ${where} on all ${count(n)} points.`;
  return `Runs ${where}: fitted on ${count(sample)} points drawn at random, then the other ${count(n - sample)} placed into that layout.`;
}

/** The largest value a parameter may take for n points (its `below_n` bound is exclusive). */
export function largestFor(param: ParamInfo, n: number): number {
  const high = param.high ?? Infinity;
  if (!param.below_n) return high;
  const { offset, divisor } = param.below_n;
  return Math.min(high, Math.ceil((n + offset) / divisor) - 1);
}

/** The default for n points, as the server computes it when the request leaves it out. */
export function defaultFor(param: ParamInfo, n: number): ParamInfo['default'] {
  if (!param.below_n || typeof param.default !== 'number') return param.default;
  return Math.max(param.low ?? 0, Math.min(param.default, largestFor(param, n)));
}

/** A numeric parameter's control for n points; `fallbackStep` where the server sets no step. */
export function numberControl(param: ParamInfo, n: number, fallbackStep = 1): NumberControl {
  const value = defaultFor(param, n);
  if (typeof value !== 'number') throw new Error(`parameter default ${String(value)} is not a number`);
  const min = param.low ?? 0;
  return { min, max: Math.max(min, largestFor(param, n)), step: param.step ?? fallbackStep, value };
}

/** Settings with the server's defaults filled in (`Keep`: fields whose null is a choice). */
export type Filled<S, Keep extends keyof S = never> = { [K in keyof S]: K extends Keep ? S[K] : NonNullable<S[K]> };

/** The t-SNE settings as they run on n points: the server's default where none is chosen. */
export function resolvedTsne(t: TsneSettings, config: ServerConfig, n: number): Filled<TsneSettings, 'superviseColumn'> {
  const number = (name: 'perplexity' | 'n_iter' | 'supervise'): number => numberControl(paramInfo(config, 'tsne', name), n).value;
  const rate = defaultFor(paramInfo(config, 'tsne', 'learning_rate'), n);
  return {
    dims: t.dims,
    perplexity: t.perplexity ?? number('perplexity'),
    learningRate: t.learningRate ?? (rate === 'auto' ? 'auto' : Number(rate)),
    iterations: t.iterations ?? number('n_iter'),
    superviseColumn: t.superviseColumn,
    superviseFactor: t.superviseFactor ?? number('supervise'),
    seed: t.seed ?? config.seed,
  };
}

/** The UMAP settings as they run on n points. */
export function resolvedUmap(u: UmapSettings, config: ServerConfig, n: number): Filled<UmapSettings> {
  const number = (name: 'n_neighbors' | 'min_dist'): number => numberControl(paramInfo(config, 'umap', name), n).value;
  return {
    dims: u.dims,
    neighbors: u.neighbors ?? number('n_neighbors'),
    minDist: u.minDist ?? number('min_dist'),
    seed: u.seed ?? config.seed,
  };
}

/** t-SNE's and UMAP's settings as they run. */
export interface ResolvedParameters {
  tsne: Filled<TsneSettings, 'superviseColumn'>;
  umap: Filled<UmapSettings>;
}

/** The parameters of `p` as they run on n points; null without the server's records. */
export function resolvedParameters(p: ProjectionSettings, config: ServerConfig | null, n: number): ResolvedParameters | null {
  return config && { tsne: resolvedTsne(p.tsne, config, n), umap: resolvedUmap(p.umap, config, n) };
}

/** The job of a projection; parameters left at their default (null) are left out. */
export function requestOf(p: ProjectionSettings): ProjectionRequest {
  const common = { spherize: p.spherize };
  if (p.kind === 'pca') {
    return { method: 'pca', dims: p.pca.dims, ...common, params: { components: p.pca.components.slice(0, p.pca.dims) } };
  }
  if (p.kind === 'tsne') {
    const t = p.tsne;
    const params: RequestParams<'tsne'> = given({ perplexity: t.perplexity, learning_rate: t.learningRate, n_iter: t.iterations });
    if (t.superviseColumn) Object.assign(params, given({ supervise_column: t.superviseColumn, supervise: t.superviseFactor }));
    return { method: 'tsne', dims: t.dims, ...given({ seed: t.seed }), ...common, params };
  }
  if (p.kind === 'umap') {
    const u = p.umap;
    const params: RequestParams<'umap'> = given({ n_neighbors: u.neighbors, min_dist: u.minDist });
    return { method: 'umap', dims: u.dims, ...given({ seed: u.seed }), ...common, params };
  }
  throw new Error('the custom projection is not a job');
}

/** The entries that are not null (null: the server's default). */
function given<T extends object>(values: T): { [K in keyof T]?: Exclude<T[K], null> } {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== null)) as { [K in keyof T]?: Exclude<T[K], null> };
}
