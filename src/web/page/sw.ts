/**
 * The page's service worker: it makes the page work offline once loaded. Every file of the page is
 * cached at install; requests go to the network first (so a new build or a `--model` swap is seen
 * at once) and fall back to the cache when the network is gone. The build writes the list of
 * files and a version into the bundle (see jobs/web.node.ts), so a new build gets a fresh cache.
 */

declare const __MAMMALS_ASSETS__: string[];
declare const __MAMMALS_VERSION__: string;

interface ExtendableEvent extends Event {
  waitUntil(p: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  request: Request;
  respondWith(r: Promise<Response>): void;
}
// The service worker's global scope, typed by hand (the project compiles against the DOM lib only).
const sw = self as unknown as {
  addEventListener(type: "install" | "activate", f: (e: ExtendableEvent) => void): void;
  addEventListener(type: "fetch", f: (e: FetchEvent) => void): void;
  skipWaiting(): Promise<void>;
  clients: { claim(): Promise<void> };
};

const CACHE = `mammals-web-${__MAMMALS_VERSION__}`;

sw.addEventListener("install", (e) => {
  e.waitUntil(
    caches
      .open(CACHE)
      .then((c) => c.addAll(__MAMMALS_ASSETS__))
      .then(() => sw.skipWaiting()),
  );
});

sw.addEventListener("activate", (e) => {
  e.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => sw.clients.claim()),
  );
});

sw.addEventListener("fetch", (e) => {
  const req = e.request;
  if (req.method !== "GET" || new URL(req.url).origin !== location.origin) return;
  e.respondWith(
    fetch(req)
      .then((res) => {
        if (res.ok) {
          const copy = res.clone();
          void caches.open(CACHE).then((c) => c.put(req, copy));
        }
        return res;
      })
      .catch(async () => (await caches.match(req, { ignoreSearch: true })) ?? Response.error()),
  );
});
