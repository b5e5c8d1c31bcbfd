/// <reference types="vitest/config" />
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

// The bundle is served by the Python package, possibly under a sub-path (a proxy, a notebook
// server), so asset URLs are relative ("./assets/...") rather than rooted at "/".
export default defineConfig({
  base: './',
  plugins: [svelte()],
  build: {
    outDir: '../src/embedding_projector/static',
    emptyOutDir: true,
    // deck.gl alone is ~700 kB minified; one chunk keeps the page a single request.
    chunkSizeWarningLimit: 2000,
  },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
  },
});
