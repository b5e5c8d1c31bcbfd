import { resolve } from 'node:path';
import { defineConfig } from 'vite';

// Builds benchmarks/web/ours.html (our plot under the benchmark's protocol) into
// benchmarks/web/dist/, git-ignored; benchmarks/bench_web.py runs this when sources changed.
export default defineConfig({
  root: resolve(import.meta.dirname, '../benchmarks/web'),
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
    rollupOptions: { input: resolve(import.meta.dirname, '../benchmarks/web/ours.html') },
  },
});
