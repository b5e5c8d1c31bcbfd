import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

// The notebook widget: the same app as one ES module (src/widget.ts, anywidget's entry), built
// beside the page into ../src/embedding_projector/static/widget.js. anywidget loads it from a
// string, with no URL to resolve anything against: no other chunk, no CSS file. Components
// inject their styles where they are mounted (the widget's shadow root). Not a library build:
// that would keep the whitespace of a 1.6 MB module.
export default defineConfig({
  base: './',
  plugins: [svelte({ compilerOptions: { css: 'injected' }, emitCss: false })],
  build: {
    outDir: '../src/embedding_projector/static',
    emptyOutDir: false,
    chunkSizeWarningLimit: 3000,
    modulePreload: false,
    rolldownOptions: {
      input: 'src/widget.ts',
      preserveEntrySignatures: 'exports-only',
      output: { format: 'es', entryFileNames: 'widget.js', codeSplitting: false },
    },
  },
});
