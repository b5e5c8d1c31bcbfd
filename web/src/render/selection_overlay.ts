// The rectangle / lasso gesture: an SVG layer over the canvas that draws the shape while the
// pointer moves and reports it once, on release. It never looks at the points.

export type SelectionMode = 'navigate' | 'rectangle' | 'lasso';

export interface Modifiers {
  shift: boolean;
  ctrl: boolean;
  meta: boolean;
  alt: boolean;
}

export type SelectionShape =
  | { kind: 'rectangle'; x0: number; y0: number; x1: number; y1: number }
  | { kind: 'lasso'; polygon: Float32Array };

const SVG_NS = 'http://www.w3.org/2000/svg';
/** Lasso vertices closer than this (CSS px) to the previous one are skipped. */
const LASSO_MIN_STEP = 3;

export function modifiersOf(event: MouseEvent | PointerEvent | KeyboardEvent): Modifiers {
  return { shift: event.shiftKey, ctrl: event.ctrlKey, meta: event.metaKey, alt: event.altKey };
}

export class SelectionOverlay {
  readonly element: SVGSVGElement;
  private readonly shape: SVGPathElement;
  private mode: SelectionMode = 'navigate';
  private points: number[] = [];
  private pointerId: number | null = null;

  constructor(
    parent: HTMLElement,
    private readonly onShape: (shape: SelectionShape, modifiers: Modifiers) => void,
  ) {
    this.element = document.createElementNS(SVG_NS, 'svg');
    this.element.classList.add('scatter-selection');
    Object.assign(this.element.style, {
      position: 'absolute',
      inset: '0',
      width: '100%',
      height: '100%',
      pointerEvents: 'none',
      cursor: 'crosshair',
      touchAction: 'none',
    });
    this.shape = document.createElementNS(SVG_NS, 'path');
    this.shape.setAttribute('fill-rule', 'evenodd');
    this.shape.setAttribute('stroke-width', '1.5');
    this.shape.setAttribute('stroke-dasharray', '5 3');
    this.element.append(this.shape);
    parent.append(this.element);
    this.element.addEventListener('pointerdown', this.onPointerDown);
    this.element.addEventListener('pointermove', this.onPointerMove);
    this.element.addEventListener('pointerup', this.onPointerUp);
    this.element.addEventListener('pointercancel', this.onPointerCancel);
  }

  setMode(mode: SelectionMode): void {
    this.mode = mode;
    // In navigate mode, events fall through to the canvas (camera controller, hover, click).
    this.element.style.pointerEvents = mode === 'navigate' ? 'none' : 'auto';
    this.clear();
  }

  setColors(stroke: string, fill: string): void {
    this.shape.setAttribute('stroke', stroke);
    this.shape.setAttribute('fill', fill);
  }

  destroy(): void {
    this.element.remove();
  }

  private local(event: PointerEvent): [number, number] {
    const rect = this.element.getBoundingClientRect();
    return [event.clientX - rect.left, event.clientY - rect.top];
  }

  private readonly onPointerDown = (event: PointerEvent): void => {
    if (this.mode === 'navigate' || event.button !== 0) return;
    this.pointerId = event.pointerId;
    this.element.setPointerCapture(event.pointerId);
    this.points = this.local(event);
    event.preventDefault();
  };

  private readonly onPointerMove = (event: PointerEvent): void => {
    if (event.pointerId !== this.pointerId) return;
    const [x, y] = this.local(event);
    if (this.mode === 'rectangle') {
      this.points = [this.points[0]!, this.points[1]!, x, y];
    } else {
      const n = this.points.length;
      if (Math.hypot(x - this.points[n - 2]!, y - this.points[n - 1]!) < LASSO_MIN_STEP) return;
      this.points.push(x, y);
    }
    this.draw();
  };

  private readonly onPointerUp = (event: PointerEvent): void => {
    if (event.pointerId !== this.pointerId) return;
    this.onPointerMove(event);
    const p = this.points;
    const shape: SelectionShape | null =
      this.mode === 'rectangle' && p.length === 4
        ? { kind: 'rectangle', x0: p[0]!, y0: p[1]!, x1: p[2]!, y1: p[3]! }
        : this.mode === 'lasso' && p.length >= 6
          ? { kind: 'lasso', polygon: Float32Array.from(p) }
          : null;
    this.clear();
    if (shape) this.onShape(shape, modifiersOf(event));
  };

  private readonly onPointerCancel = (): void => {
    this.clear();
  };

  private clear(): void {
    this.pointerId = null;
    this.points = [];
    this.shape.setAttribute('d', '');
  }

  private draw(): void {
    const p = this.points;
    let d = '';
    if (this.mode === 'rectangle' && p.length === 4) {
      d = `M${p[0]},${p[1]}H${p[2]}V${p[3]}H${p[0]}Z`;
    } else {
      for (let k = 0; k < p.length; k += 2) d += `${k === 0 ? 'M' : 'L'}${p[k]},${p[k + 1]}`;
      d += 'Z';
    }
    this.shape.setAttribute('d', d);
  }
}
