// The browser test: serve web/dist on 127.0.0.1, open it in headless Chromium (Debian's
// `chromium`, software WebGL2 through SwiftShader), and check that
// - the app starts, draws its first frame, and logs no console error and throws no page error
//   (a panic is a console error: eframe logs it with console.error);
// - every lesson opens through its URL fragment (#lesson=ID), and a screenshot of each is saved;
// - the live lesson trains (#lesson=live&play): its step, on the canvas's data-step, advances;
// - a computation of seconds (the experts' cross-entropy table at k = 64, V = 100) is taken in
//   pieces: the page keeps drawing frames while it runs;
// - the browser's vector loops, which no native test runs, agree with their references: the
//   matrix product (simd128 packing, vectorized kernel) with the triple loop, GELU's and
//   AdamW's vectorized rows with their scalar remainders (window.attentionLabCheckKernels).
// It prints what it measured: the first frame's time, the training rate while drawing and alone
// (window.attentionLabTrainingRate), the .wasm size.
//
// Usage: node web/test.mjs [--dist web/dist] [--out target/web-screens] [--chromium /usr/bin/chromium]
// Exit status 0 when every check passed, 1 otherwise (each failure is printed).

import { createServer } from "node:http";
import { readFile, mkdir, stat } from "node:fs/promises";
import { extname, join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
};
const dist = resolve(arg("--dist", join(here, "dist")));
const out = resolve(arg("--out", join(here, "..", "target", "web-screens")));
const executablePath = arg("--chromium", "/usr/bin/chromium");
const width = Number(arg("--width", "1280"));
const height = Number(arg("--height", "800"));

const types = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".png": "image/png",
};

// A static server for dist/, on 127.0.0.1 only, on a free port.
function serve() {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    const file = join(dist, path === "/" ? "index.html" : path);
    if (!file.startsWith(dist)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok(server)));
}

const failures = [];
const fail = (what) => {
  failures.push(what);
  console.log(`FAIL ${what}`);
};
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

const wasm = join(dist, "attention-lab_bg.wasm");
const wasmBytes = (await stat(wasm)).size;
const wasmGzip = gzipSync(await readFile(wasm), { level: 9 }).length;
console.log(`wasm ${(wasmBytes / 1e6).toFixed(2)} MB, gzipped ${(wasmGzip / 1e6).toFixed(2)} MB`);

await mkdir(out, { recursive: true });
const server = await serve();
const base = `http://127.0.0.1:${server.address().port}/`;
const browser = await chromium.launch({
  executablePath,
  headless: true,
  // No --disable-gpu: WebGL then runs on SwiftShader in Chromium's GPU process, off the page's
  // main thread, as it does on a real GPU. With --disable-gpu the drawing took the main thread
  // from training: the live lesson trained at 10 steps/s at 1280 × 800 instead of 42 (measured).
  args: [
    "--no-sandbox",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-unsafe-swiftshader",
    "--use-angle=swiftshader",
  ],
});

try {
  const page = await browser.newPage({ viewport: { width, height } });
  page.on("console", (m) => {
    if (m.type() === "error") fail(`console error: ${m.text().split("\n").slice(0, 6).join(" | ")}`);
  });
  page.on("pageerror", (e) => fail(`page error: ${e.message}`));
  page.on("crash", () => fail("the page crashed"));

  const data = (key) => page.$eval("#attention_lab_canvas", (c, k) => c.dataset[k] ?? null, key);
  const waitFor = async (what, test, ms) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await test()) return true;
      if (failures.length) return false;
      await sleep(100);
    }
    fail(`timed out after ${ms / 1000} s waiting for ${what}`);
    return false;
  };

  // Frames the page draws per second over `ms` (requestAnimationFrame callbacks).
  const framesPerSecond = (ms) =>
    page.evaluate(
      (ms) =>
        new Promise((done) => {
          let n = 0;
          const t0 = performance.now();
          const tick = () => {
            n += 1;
            if (performance.now() - t0 < ms) requestAnimationFrame(tick);
            else done((n * 1000) / (performance.now() - t0));
          };
          requestAnimationFrame(tick);
        }),
      ms,
    );

  // Start: the overview, from a clean profile.
  const t0 = Date.now();
  await page.goto(`${base}#lesson=overview`);
  if (await waitFor("the first frame", async () => (await data("lesson")) === "overview", 60000)) {
    console.log(
      `first frame at ${await data("firstFrameMs")} ms after navigation start ` +
        `(page load to first frame, measured here: ${Date.now() - t0} ms)`,
    );
  }
  const lessons = await page.evaluate(() => window.attentionLabLessons ?? []);
  if (lessons.length < 2) fail(`window.attentionLabLessons lists ${lessons.length} lessons`);

  // Every lesson, through its fragment; a screenshot of each once it has settled.
  for (const id of lessons) {
    if (failures.length) break;
    await page.evaluate((id) => (location.hash = `lesson=${id}`), id);
    if (!(await waitFor(`lesson ${id}`, async () => (await data("lesson")) === id, 30000))) break;
    await sleep(1500);
    const title = await page.title();
    if (!title.includes("attention-lab")) fail(`lesson ${id}: the title is "${title}"`);
    await page.screenshot({ path: join(out, `${id}.png`) });
    console.log(`ok   lesson ${id}: "${title}" (longest recent frame ${await data("frameMaxMs")} ms)`);
  }

  // A link with settings: the softmax lesson at scale 100 keeps them in the address bar.
  if (!failures.length && lessons.includes("softmax")) {
    await page.evaluate(() => (location.hash = "lesson=softmax&section=1"));
    await waitFor("the softmax link", async () => (await data("lesson")) === "softmax", 30000);
    await sleep(500);
    const hash = await page.evaluate(() => location.hash);
    if (!hash.includes("section=1")) fail(`the link's settings were not kept: ${hash}`);
    else console.log(`ok   link kept: ${hash}`);
  }

  // A long computation without threads keeps the page drawing: the experts' cross-entropy table
  // at k = 64 members and V = 100 classes is 140 million normal draws (seconds of work), taken
  // a piece per frame (`Background::get_in_steps`). In one piece the page would draw nothing.
  if (!failures.length && lessons.includes("experts")) {
    // The longest wait between two frames over the 3 s after the link is followed.
    const gap = await page.evaluate(
      () =>
        new Promise((done) => {
          let [last, worst] = [performance.now(), 0];
          const t0 = last;
          const tick = (now) => {
            worst = Math.max(worst, now - last);
            last = now;
            if (now - t0 < 3000) requestAnimationFrame(tick);
            else done(worst);
          };
          location.hash = "lesson=experts&section=3&k=64&classes=100";
          requestAnimationFrame(tick);
        }),
    );
    if (gap < 500) console.log(`ok   experts §4 at k = 64, V = 100: the page drew while it sampled (longest gap between frames ${gap.toFixed(0)} ms)`);
    else fail(`experts §4 at k = 64, V = 100: no frame for ${gap.toFixed(0)} ms while it sampled`);
  }

  // Live training: the step advances while the page keeps drawing.
  if (!failures.length && lessons.includes("live")) {
    await page.evaluate(() => (location.hash = "lesson=live&play"));
    await waitFor("the live lesson", async () => (await data("step")) !== null, 30000);
    const first = Number(await data("step"));
    await waitFor("training steps", async () => Math.abs(Number(await data("step")) - first) >= 20, 60000);
    // The rate from here: the link's &play may have restarted the run after `first` was read.
    const s0 = Number(await data("step"));
    const started = Date.now();
    await sleep(6000);
    // Frames the page drew per second while training (requestAnimationFrame callbacks).
    const fps = await framesPerSecond(2000);
    const s1 = Number(await data("step"));
    const secs = (Date.now() - started) / 1000;
    const rate = await data("rate");
    await page.screenshot({ path: join(out, "live-training.png") });
    if (s1 > s0) {
      console.log(
        `ok   live training: step ${s0} → ${s1} in ${secs.toFixed(1)} s ` +
          `(${((s1 - s0) / secs).toFixed(1)} steps/s; the app reports ${rate} tokens/s; ` +
          `longest recent frame ${await data("frameMaxMs")} ms; ${fps.toFixed(1)} frames/s)`,
      );
    } else {
      fail(`live training did not advance (step ${s0} → ${s1})`);
    }
  }

  // The browser's vector loops against their references.
  if (!failures.length) {
    const kernels = await page.evaluate(() => window.attentionLabCheckKernels());
    if (typeof kernels === "string" && kernels.startsWith("ok")) console.log(`ok   vector loops: ${kernels}`);
    else fail(`a vector loop differs from its reference: ${kernels}`);
  }

  // The training step alone, nothing drawn (3 s, blocking the page): the browser's side of
  // `attention-lab train` on one core (the same run).
  if (!failures.length) {
    const alone = await page.evaluate(() => window.attentionLabTrainingRate(3000));
    if (typeof alone === "number" && alone > 0) {
      console.log(`ok   training alone: ${alone.toFixed(1)} steps/s (the live lesson's default run)`);
    } else {
      fail(`window.attentionLabTrainingRate(3000) gave ${alone}`);
    }
  }

  const crash = await page.$eval("#crash", (e) => (e.hidden ? "" : e.textContent));
  if (crash) fail(`the page shows a crash: ${crash}`);
} finally {
  await browser.close();
  server.close();
}

console.log(`screenshots in ${out}`);
if (failures.length) {
  console.log(`${failures.length} failure(s)`);
  process.exit(1);
}
console.log("all browser checks passed");
