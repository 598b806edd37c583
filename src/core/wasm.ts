/**
 * Embedded WebAssembly modules: the kernels ship as base64 inside the package (no file to fetch,
 * the same in Node, browsers and workers) and are compiled synchronously once, so that the Index
 * and Model contracts stay synchronous.
 */

/** The bytes of a base64 string (atob: available in Node, browsers and edge runtimes). */
export function bytesFromBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * A getter for the module embedded as `base64`, compiled on first use and cached; null where
 * WebAssembly or one of the module's instructions (SIMD) is unavailable, or where compiling is
 * refused (a Content-Security-Policy without 'wasm-unsafe-eval'): callers then take their
 * TypeScript path.
 */
export function embeddedWasmModule(base64: string): () => WebAssembly.Module | null {
  let compiled: WebAssembly.Module | null | undefined;
  return () => {
    if (compiled === undefined) {
      try {
        const bytes = bytesFromBase64(base64);
        compiled =
          typeof WebAssembly === "object" && WebAssembly.validate(bytes)
            ? new WebAssembly.Module(bytes)
            : null;
      } catch {
        compiled = null;
      }
    }
    return compiled;
  };
}
