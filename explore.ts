import { chromium } from "playwright-core";
import { serveWebApp } from "./src/jobs/web.node.js";
const s = await serveWebApp({ dir: "dist/web-app", port: 0 });
const b = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox","--disable-gpu"] });
const p = await b.newPage();
p.on("console", (m) => console.log("console:", m.text()));
for (let i = 0; i < 3; i++) { if (i) await p.reload(); else await p.goto(s.url); await p.waitForSelector('body[data-ready]'); }
await b.close(); await s.close();
