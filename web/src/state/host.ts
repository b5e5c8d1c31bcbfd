// Where the app runs: a page of its own (the server's), or a notebook widget inside someone
// else's page, in a shadow root. The few things that differ are here.

export interface Host {
  /** The element whose `data-theme` sets the app's colours. */
  themeRoot: HTMLElement;
  /** Where the app's elements are found by id. */
  root: Document | ShadowRoot;
  /** Where keyboard shortcuts are listened for. */
  keys: EventTarget;
  /**
   * The app owns the page: the view lives in its URL hash (a link shares it) and the night
   * mode is remembered. A widget leaves the notebook's URL and settings alone.
   */
  ownsPage: boolean;
}

let current: Host | null = null;

/** The host, by default the page the app was opened in. */
export function host(): Host {
  current ??= { themeRoot: document.documentElement, root: document, keys: window, ownsPage: true };
  return current;
}

export function setHost(next: Host): void {
  current = next;
}
