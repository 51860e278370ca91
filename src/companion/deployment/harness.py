"""The page the browser runs use: it loads one runtime and runs the models it is given.

:mod:`companion.deployment.browser_session` serves :data:`HTML` at
``/harness/harness.html`` and :data:`SCRIPT` at ``/harness/harness.js``. They
are kept here, as Python strings, so that the book's execution cache ties the
deployment chapter's outputs to them as it does to the rest of the companion.

The script's ``window.runRuntime(spec)`` takes the runtime's name
(``"onnxruntime-web"`` or ``"litert.js"``), the test images (raw float32, one
channel, so that the channels-first and channels-last buffers are the same
bytes) and the models, and returns, per model, the logits of the whole batch
and of its first image alone, the load time, and per-call latency samples for
the batch and for one image; or the model's error. ``performance.now()`` is
coarsened to 0.1 ms on a page that is not cross-origin isolated, so each
latency sample times enough calls in a row to last 20 ms (one image) or
50 ms (the batch).

>>> "window.runRuntime" in SCRIPT and "/harness/harness.js" in HTML
True
"""

HTML = r"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Browser runtimes: the book's digits CNN</title>
<link rel="icon" href="data:,">
<!-- @litertjs/core imports the bare name "@litertjs/wasm-utils": map it to the local copy. -->
<script type="importmap">
{"imports": {"@litertjs/wasm-utils": "/litert/wasm-utils/index.js"}}
</script>
<script type="module" src="/harness/harness.js"></script>
</head>
<body>
<h1>Browser runtimes</h1>
<p>Nothing loads until <code>window.runRuntime(spec)</code> is called.</p>
</body>
</html>
"""

SCRIPT = r"""// Run one browser runtime on the book's exported digits models; report what it computed.
const now = () => performance.now();

// A sample times `number` calls in a row: enough of them to last about `roundMs`.
async function timeCalls(call, { warmup = 3, repeats = 15, roundMs = 20, most = 200 } = {}) {
  for (let i = 0; i < warmup; i++) await call();
  const start = now();
  for (let i = 0; i < 5; i++) await call();
  const once = Math.max((now() - start) / 5, 0.005);
  const number = Math.max(1, Math.min(most, Math.round(roundMs / once)));
  const samples = [];
  for (let r = 0; r < repeats; r++) {
    const t = now();
    for (let i = 0; i < number; i++) await call();
    samples.push((now() - t) / number);
  }
  return { samples_ms: samples, number };
}

async function loadImages(spec) {
  const buffer = await (await fetch(spec.images)).arrayBuffer();
  const data = new Float32Array(buffer);
  if (data.length !== spec.count * 64) throw new Error(`expected ${spec.count} images of 8x8`);
  return data;
}

const errorText = (e) => String((e && e.message) || e).split('\n')[0];

async function onnxRuntimeWeb(spec, images) {
  const started = now();
  const ort = await import('/ort/ort.wasm.min.mjs');
  ort.env.wasm.numThreads = 1;  // no cross-origin isolation here, so no threads anyway
  const options = { executionProviders: ['wasm'] };
  const result = { runtime: 'onnxruntime-web', version: ort.env.versions.web, models: [] };
  for (const model of spec.models) {
    const entry = { label: model.label, file: model.file };
    result.models.push(entry);
    try {
      let session = await ort.InferenceSession.create(model.url, options);
      if (result.startup_ms === undefined) result.startup_ms = now() - started;
      // Load it again now that the WebAssembly is compiled: the model's own cost.
      await session.release();
      const t = now();
      session = await ort.InferenceSession.create(model.url, options);
      entry.load_ms = now() - t;
      const input = session.inputNames[0], output = session.outputNames[0];
      const run = async (n) => {
        const x = new ort.Tensor('float32', images.subarray(0, n * 64), [n, ...model.image_shape]);
        return (await session.run({ [input]: x }))[output].data;
      };
      entry.batch = Array.from(await run(spec.count));
      entry.one_image = Array.from(await run(1));
      entry.latency_batch = await timeCalls(() => run(spec.count), { roundMs: 50, most: 50 });
      entry.latency_one = await timeCalls(() => run(1));
      await session.release();
    } catch (e) {
      entry.error = errorText(e);
    }
  }
  return result;
}

async function liteRtJs(spec, images) {
  const started = now();
  const litert = await import('/litert/core/index.js');
  await litert.loadLiteRt(new URL('/litert/wasm/', location.href).href);
  const result = { runtime: 'litert.js', startup_ms: now() - started, models: [] };
  const compile = async (url) => litert.loadAndCompile(url, { accelerator: 'wasm' });
  const runner = (compiled, n, shape) => async () => {
    const x = new litert.Tensor(images.slice(0, n * 64), [n, ...shape]);
    try {
      const outputs = await compiled.run(x);
      const data = outputs[0].toTypedArray().slice();
      outputs.forEach((o) => o.delete());
      return data;
    } finally {
      x.delete();
    }
  };
  for (const model of spec.models) {
    const entry = { label: model.label, file: model.file };
    result.models.push(entry);
    const compiled = [];
    try {
      const t = now();
      const batchModel = await compile(model.url);
      entry.load_ms = now() - t;
      compiled.push(batchModel);
      const runBatch = runner(batchModel, spec.count, model.image_shape);
      entry.batch = Array.from(await runBatch());
      // A second file with a fixed batch of one image, where the model needs it.
      const oneModel = model.one_image_url ? await compile(model.one_image_url) : batchModel;
      if (oneModel !== batchModel) compiled.push(oneModel);
      const runOne = runner(oneModel, 1, model.image_shape);
      entry.one_image = Array.from(await runOne());
      entry.latency_batch = await timeCalls(runBatch, { roundMs: 50, most: 50 });
      entry.latency_one = await timeCalls(runOne);
    } catch (e) {
      entry.error = errorText(e);
    } finally {
      compiled.forEach((m) => m.delete());
    }
  }
  return result;
}

window.runRuntime = async (spec) => {
  const images = await loadImages(spec);
  const runtimes = { 'onnxruntime-web': onnxRuntimeWeb, 'litert.js': liteRtJs };
  if (!(spec.runtime in runtimes)) throw new Error(`unknown runtime ${spec.runtime}`);
  return runtimes[spec.runtime](spec, images);
};
window.harnessReady = true;
"""
