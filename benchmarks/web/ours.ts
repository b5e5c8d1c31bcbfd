// Our plot under the benchmark's protocol (see bare.html): open → fetch float32 points → first
// frame on screen; then orbit the 3D camera 3° per frame. With `pan=1` the points are a 2D
// layout (their x, y) panned 1 % of the view per frame, with `density=1` over the density layer.
import { ScatterPlot, colorByCategory } from '../../web/src/render';

declare global {
  interface Window {
    benchResult?: { firstFrameMs: number; stamps: number[] };
  }
}

const q = new URLSearchParams(location.search);
const n = Number(q.get('n'));
const frames = Number(q.get('frames'));
const nextFrame = (): Promise<number> => new Promise((resolve) => requestAnimationFrame(resolve));

const container = document.getElementById('plot') as HTMLDivElement;
const plot = new ScatterPlot(container);
plot.setPointSize(Number(q.get('size')));
const pan = q.get('pan') === '1';
const positions = new Float32Array(await (await fetch(`../points-${n}.bin`)).arrayBuffer());
plot.setDensity(q.get('density') === '1');
plot.setPoints(pan ? positions.filter((_, k) => k % 3 !== 2) : positions, pan ? 2 : 3);
// Per-point colours, as the app always has (a categorical column of 12 values).
plot.setColors(colorByCategory(Array.from({ length: n }, (_, i) => i % 12)).colors);
await plot.whenDrawn();
await nextFrame();
await nextFrame();
const firstFrameMs = performance.now();

const camera = plot.getCamera();
const stamps: number[] = [];
for (let f = 0; f <= frames; f++) {
  if (camera.mode === '3d') {
    plot.setCamera({ ...camera, rotationOrbit: camera.rotationOrbit + (f + 1) * 3 });
  } else {
    const step = (0.02 * (f + 1)) / 2 ** camera.zoom;
    plot.setCamera({ ...camera, target: [camera.target[0] + step, camera.target[1]] });
  }
  stamps.push(await nextFrame());
}
window.benchResult = { firstFrameMs, stamps };
