import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { debounce } from '../src/state/debounce';

describe('debounce', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('runs once, the delay after the last call of a burst', () => {
    const fn = vi.fn();
    const soon = debounce(fn, 300);
    soon();
    vi.advanceTimersByTime(200);
    soon();
    vi.advanceTimersByTime(299);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('runs again for a later burst', () => {
    const fn = vi.fn();
    const soon = debounce(fn, 100);
    soon();
    vi.advanceTimersByTime(100);
    soon();
    vi.advanceTimersByTime(100);
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it('now() runs at once and drops the pending run', () => {
    const fn = vi.fn();
    const soon = debounce(fn, 200);
    soon();
    soon.now();
    expect(fn).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(500);
    expect(fn).toHaveBeenCalledTimes(1);
  });
});
