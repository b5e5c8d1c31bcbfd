// Entry point: the projector app as a Jupyter widget (anywidget), built into
// src/embedding_projector/static/widget.js. The app lives in a shadow root, so that its styles
// and the notebook's leave each other alone; it talks to the kernel over the widget's comm only.

import type { AnyWidget } from '@anywidget/types';
import { mount, unmount } from 'svelte';

import { CommTransport } from './api/comm_transport';
import App from './panels/App.svelte';
import { api } from './state/api_instance';
import { app, initialTheme } from './state/app.svelte';
import { setHost } from './state/host';
import { startApp } from './state/loading';
import { followModel, reportToModel } from './state/widget_sync.svelte';
import { initialView } from './state/widget_view';
import type { WidgetModel, WidgetTraits } from './state/widget_view';
import css from './styles.css?inline';

const NOTE_KERNEL_GONE =
  'This widget lost its kernel (restarted, shut down, or the widget was closed): run its cell again to open the projector anew.';
const NOTE_KERNEL_SILENT =
  'The kernel has not answered for a while: it is busy running a cell (the widget goes on when it is done), or it stopped.';

let started = false;

function start(model: WidgetModel): void {
  started = true;
  const transport = new CommTransport(model, (silent) => {
    if (silent) app.addBanner('warning', NOTE_KERNEL_SILENT);
    else app.banners = app.banners.filter((b) => b.text !== NOTE_KERNEL_SILENT);
  });
  api.useTransport(transport);
  const gone = (): void => {
    transport.fail(NOTE_KERNEL_GONE);
    app.banners = app.banners.filter((b) => b.text !== NOTE_KERNEL_SILENT);
    app.addBanner('error', NOTE_KERNEL_GONE);
  };
  // ipywidgets' events when the kernel goes (restart, shutdown) or Python closes the widget.
  model.on('comm_live_update', gone);
  model.on('comm:close', gone);
  app.theme = initialTheme(false);
  const view = initialView(model);
  void startApp(view, model.get('projection') !== null).then(() => {
    followModel(model);
    reportToModel(model);
  });
}

const widget: AnyWidget<WidgetTraits> = {
  render({ model, el }) {
    const box = document.createElement('div');
    box.className = 'embedding-projector';
    // JupyterLab leaves the keys pressed in here to the widget (its own shortcuts skip them).
    box.dataset['lmSuppressShortcuts'] = 'true';
    const setHeight = (): void => {
      box.style.height = `${model.get('height')}px`;
    };
    setHeight();
    model.on('change:height', setHeight);
    el.append(box);
    const shadow = box.attachShadow({ mode: 'open' });
    const style = document.createElement('style');
    style.textContent = css;
    const target = document.createElement('div');
    target.id = 'app';
    // Focusable, so that a click in the plot gives the widget the keyboard shortcuts.
    target.tabIndex = -1;
    shadow.append(style, target);
    setHost({ themeRoot: box, root: shadow, keys: target, ownsPage: false });
    const component = mount(App, { target });
    if (!started) start(model);
    return () => {
      model.off('change:height', setHeight);
      void unmount(component);
      box.remove();
    };
  },
};

export default widget;
