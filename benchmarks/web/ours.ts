// Our plot under the benchmark's protocol (see bare.html): open → fetch float32 points → first
// frame on screen; then orbit the 3D camera 3° per frame, or (`mode=scrub`) move a timeline's
// slider: each frame shows a new mix of two layouts in one joint frame, the camera still. With
// `pan=1` the points are a 2D layout (their x, y) panned 1 % of the view per frame, with
// `density=1` over the density layer. With `mode=pointer` it draws once and waits: the benchmark
// moves the pointer onto `window.benchTarget` (a drawn point, CSS px) and clicks it, and the
// plot stamps its first hover and click reports in `window.benchPointer`.
import { ScatterPlot, colorByCategory, computeBounds, lerpArray } from '../../web/src/render';
import type { Bounds } from '../../web/src/render';

declare global {
  interface Window {
    benchResult?: { firstFrameMs: number; stamps: number[] };
    benchTarget?: [number, number];
    benchPointer: { hovered?: number; clicked?: number };
  }
}

const q = new URLSearchParams(location.search);
const n = Number(q.get('n'));
const frames = Number(q.get('frames'));
const nextFrame = (): Promise<number> => new Promise((resolve) => requestAnimationFrame(resolve));

const container = document.getElementById('plot') as HTMLDivElement;
window.benchPointer = {};
const plot = new ScatterPlot(container, {
  onHover: (index) => {
    if (index !== null) window.benchPointer.hovered ??= performance.now();
  },
  onClick: (index) => {
    if (index !== null) window.benchPointer.clicked ??= performance.now();
  },
});
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
if (q.get('mode') === 'pointer') {
  // The first point drawn well inside the plot.
  const screen = plot.screenPositions(Int32Array.from({ length: Math.min(n, 1000) }, (_, i) => i));
  for (let i = 0; i < screen.length / 2 && !window.benchTarget; i++) {
    const [x, y] = [screen[2 * i]!, screen[2 * i + 1]!];
    if (x > 50 && y > 50 && x < container.clientWidth - 50 && y < container.clientHeight - 50) {
      window.benchTarget = [x, y];
    }
  }
} else if (q.get('mode') === 'scrub') {
  // A later step: every point moved (turned about z, stretched along it).
  const later = new Float32Array(positions.length);
  for (let i = 0; i < positions.length; i += 3) {
    const [x, y, z] = [positions[i]!, positions[i + 1]!, positions[i + 2]!];
    later[i] = 0.8 * x - 0.6 * y;
    later[i + 1] = 0.6 * x + 0.8 * y;
    later[i + 2] = 1.3 * z;
  }
  const [a, b] = [computeBounds(positions, 3), computeBounds(later, 3)];
  const frame: Bounds = {
    min: [0, 1, 2].map((k) => Math.min(a.min[k]!, b.min[k]!)) as Bounds['min'],
    max: [0, 1, 2].map((k) => Math.max(a.max[k]!, b.max[k]!)) as Bounds['max'],
    count: a.count,
  };
  for (let f = 0; f <= frames; f++) {
    plot.setPoints(lerpArray(positions, later, (f + 1) / (frames + 1)), 3, { durationMs: 0 }, frame);
    stamps.push(await nextFrame());
  }
} else {
  for (let f = 0; f <= frames; f++) {
    if (camera.mode === '3d') {
      plot.setCamera({ ...camera, rotationOrbit: camera.rotationOrbit + (f + 1) * 3 });
    } else {
      const step = (0.02 * (f + 1)) / 2 ** camera.zoom;
      plot.setCamera({ ...camera, target: [camera.target[0] + step, camera.target[1]] });
    }
    stamps.push(await nextFrame());
  }
}
window.benchResult = { firstFrameMs, stamps };
