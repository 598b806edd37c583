/**
 * The drawing pad: pointer events (mouse, touch and pen alike) draw round strokes on a canvas;
 * `onStroke` fires when a stroke ends. `ink()` reads the drawing back as a grey image for
 * core/preprocess.ts (the canvas's alpha channel: ink is opaque, paper transparent).
 */

export interface Pad {
  readonly canvas: HTMLCanvasElement;
  ink(): Float32Array;
  clear(): void;
}

export function createPad(canvas: HTMLCanvasElement, onStroke: () => void): Pad {
  const ctx = canvas.getContext("2d", { willReadFrequently: true })!;
  // Stroke width relative to the canvas: MNIST strokes are about a tenth of the digit's height.
  const width = canvas.width / 14;
  let last: { x: number; y: number } | null = null;
  const at = (e: PointerEvent) => {
    const r = canvas.getBoundingClientRect();
    return {
      x: ((e.clientX - r.left) * canvas.width) / r.width,
      y: ((e.clientY - r.top) * canvas.height) / r.height,
    };
  };
  const line = (a: { x: number; y: number }, b: { x: number; y: number }) => {
    ctx.strokeStyle = "#000";
    ctx.lineWidth = width;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(a.x, a.y);
    ctx.lineTo(b.x, b.y);
    ctx.stroke();
  };
  canvas.addEventListener("pointerdown", (e) => {
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    last = at(e);
    line(last, last);
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!last) return;
    const p = at(e);
    line(last, p);
    last = p;
  });
  const end = () => {
    if (!last) return;
    last = null;
    onStroke();
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  return {
    canvas,
    ink() {
      const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
      const out = new Float32Array(canvas.width * canvas.height);
      for (let i = 0; i < out.length; i++) out[i] = data[i * 4 + 3] / 255;
      return out;
    },
    clear() {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
    },
  };
}

/** Paints 28x28 values in [0, 1] (or bytes) white on black into a 28x28 canvas. */
export function paintDigit(canvas: HTMLCanvasElement, x: ArrayLike<number>, scale = 1): void {
  const ctx = canvas.getContext("2d")!;
  const img = ctx.createImageData(canvas.width, canvas.height);
  for (let i = 0; i < x.length && i * 4 < img.data.length; i++) {
    const v = Math.round(Math.min(255, Math.max(0, x[i] * scale)));
    img.data[i * 4] = v;
    img.data[i * 4 + 1] = v;
    img.data[i * 4 + 2] = v;
    img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}
