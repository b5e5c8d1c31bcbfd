import { describe, expect, it } from 'vitest';

import { initialView } from '../src/state/widget_view';
import type { WidgetModel, WidgetTraits } from '../src/state/widget_view';

/** A model holding traits as Python set them (only `get` is read by initialView). */
function model(traits: Partial<WidgetTraits>): WidgetModel {
  const all: WidgetTraits = { height: 600, selection: null, color_by: null, label_by: null, projection: null, dims: null, _compare: null, _rows: 0, ...traits };
  return { get: <K extends keyof WidgetTraits>(key: K) => all[key] } as unknown as WidgetModel;
}

describe('the widget view', () => {
  it('chooses its dimensions only when Python set dims (the notebook has no URL hash)', () => {
    expect(initialView(model({})).dimsChosen).toBe(false);
    const three = initialView(model({ projection: 'umap', dims: 3 }));
    expect(three.dimsChosen).toBe(true);
    expect(three.projection.umap.dims).toBe(3);
  });
});
