/**
 * The page's fine-tuning Web Worker: runs core/finetune-protocol.ts off the main thread, so the
 * page keeps drawing and predicting while the weights train, and posts progress as it goes.
 */
import { type FinetuneMessage, type FinetuneRequest, runFinetune } from "../core/finetune-protocol.js";

// A dedicated worker's global scope; typed by hand because the project compiles against the DOM lib.
const scope = self as unknown as {
  onmessage: ((e: MessageEvent<FinetuneRequest>) => void) | null;
  postMessage(m: FinetuneMessage, transfer?: Transferable[]): void;
};

scope.onmessage = (e) => {
  try {
    runFinetune(e.data, (m) => scope.postMessage(m, m.type === "done" ? [m.model.buffer] : []));
  } catch (err) {
    scope.postMessage({ type: "error", message: (err as Error).message });
  }
};
