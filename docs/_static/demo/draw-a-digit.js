// Draw a digit: the book's digits CNN, trained in PyTorch and in Keras and exported to ONNX by
// the build, classifies a drawing with onnxruntime-web, in this page. Nothing leaves the page.
//
// Nothing heavy loads with the page: onnxruntime-web's WebAssembly and the two models are
// fetched when the reader presses Start, from this site (site/ beside this file, written by
// `python -m companion.deployment.demo_site` during the build).
//
// What the models see follows how scikit-learn's digits were made (UCI optdigits): a 32x32
// bitmap, size-normalized and centred, each non-overlapping 4x4 block counted, giving 8x8
// values 0..16; then divided by 16, as companion.digits does. The strokes are kept as vectors,
// scaled so the longer side of their bounding box fills the grid, redrawn with a fixed pen,
// thresholded and counted.
//
// Test hook, window.digitsTest (tests/site/test_demo_page.py):
//   ready()            a promise, resolved once the runtime and the models are loaded
//   setPixels(values)  classify 64 values on the 0..16 scale, row-major (no drawing)
//   lastInput()        the 64 values (0..1) last given to the models
//   lastResult()       {pytorch: {probs, top}, keras: {probs, top}} for them

const SITE = new URL('site/', import.meta.url);
const PAD = 256, GRID = 32, PEN = 4.5;  // PEN: the pen's width in the 32x32 grid
const MODELS = {
  pytorch: { file: 'models/pytorch.onnx', image: [1, 8, 8] },  // channels first
  keras: { file: 'models/keras.onnx', image: [8, 8, 1] },      // channels last
};

const $ = (id) => document.getElementById(id);
const pad = $('digits-pad');
const context = pad.getContext('2d');
const preview = $('digits-preview');
const say = (text) => { $('digits-status').textContent = text; };

let strokes = [];
let current = null;
let loaded = null;  // {ort, sessions: {pytorch, keras}} after Start
let samples = null;
let nextSample = 0;
let lastInput = null, lastResult = null;
let resolveReady;
const readyPromise = new Promise((resolve) => { resolveReady = resolve; });

function ink() { return getComputedStyle(pad).color; }

function drawStroke(ctx, stroke, map) {
  ctx.beginPath();
  const [x0, y0] = map(stroke[0]);
  ctx.moveTo(x0, y0);
  if (stroke.length === 1) ctx.lineTo(x0 + 0.01, y0);  // a dot
  for (const point of stroke.slice(1)) ctx.lineTo(...map(point));
  ctx.stroke();
}

function clearPad() {
  context.clearRect(0, 0, PAD, PAD);
}

function redrawPad() {
  clearPad();
  context.strokeStyle = ink();
  context.lineWidth = 18;
  context.lineCap = context.lineJoin = 'round';
  for (const stroke of strokes) drawStroke(context, stroke, (p) => p);
}

function drawPixels(values16) {
  clearPad();
  const cell = PAD / 8;
  const [r, g, b] = ink().match(/\d+/g).map(Number);
  values16.forEach((v, i) => {
    context.fillStyle = `rgba(${r}, ${g}, ${b}, ${v / 16})`;
    context.fillRect((i % 8) * cell, Math.floor(i / 8) * cell, cell, cell);
  });
}

// The strokes as 64 counts on the 0..16 scale, or null when nothing is drawn.
function strokesToCounts() {
  const points = strokes.flat();
  if (!points.length) return null;
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  const minX = Math.min(...xs), maxX = Math.max(...xs), minY = Math.min(...ys), maxY = Math.max(...ys);
  const scale = (GRID - PEN) / Math.max(maxX - minX, maxY - minY, 1e-6);
  const offX = (GRID - (maxX - minX) * scale) / 2, offY = (GRID - (maxY - minY) * scale) / 2;
  const grid = new OffscreenCanvas(GRID, GRID).getContext('2d', { willReadFrequently: true });
  grid.fillStyle = '#000';
  grid.fillRect(0, 0, GRID, GRID);
  grid.strokeStyle = '#fff';
  grid.lineWidth = PEN;
  grid.lineCap = grid.lineJoin = 'round';
  for (const stroke of strokes) {
    drawStroke(grid, stroke, ([x, y]) => [offX + (x - minX) * scale, offY + (y - minY) * scale]);
  }
  const pixels = grid.getImageData(0, 0, GRID, GRID).data;
  const counts = new Array(64).fill(0);
  for (let y = 0; y < GRID; y++) {
    for (let x = 0; x < GRID; x++) {
      if (pixels[(y * GRID + x) * 4] >= 128) counts[(y >> 2) * 8 + (x >> 2)] += 1;
    }
  }
  return counts;
}

function showPreview(values01) {
  const ctx = preview.getContext('2d');
  const image = ctx.createImageData(8, 8);
  values01.forEach((v, i) => {
    const grey = Math.round(255 * (1 - v));  // dark ink on white
    image.data.set([grey, grey, grey, 255], i * 4);
  });
  ctx.putImageData(image, 0, 0);
}

function softmax(logits) {
  const top = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - top));
  const sum = e.reduce((a, b) => a + b);
  return e.map((v) => v / sum);
}

function showProbabilities(name, probs) {
  const top = probs.indexOf(Math.max(...probs));
  const body = $(`digits-${name}`);
  body.replaceChildren(...probs.map((p, digit) => {
    const row = document.createElement('tr');
    if (digit === top) row.className = 'digits-top';
    const bar = document.createElement('span');
    bar.className = 'digits-bar';
    bar.style.width = `${(100 * p).toFixed(1)}%`;
    const cells = [String(digit), `${(100 * p).toFixed(1)} %`];
    for (const text of cells) {
      const cell = document.createElement('td');
      cell.textContent = text;
      row.append(cell);
    }
    const barCell = document.createElement('td');
    barCell.setAttribute('aria-hidden', 'true');
    barCell.append(bar);
    row.append(barCell);
    return row;
  }));
  return top;
}

async function classify(counts) {
  const x = Float32Array.from(counts, (v) => v / 16);
  lastInput = Array.from(x);
  showPreview(x);
  if (!loaded) {
    say('Press “Start the demo” to load the models; your drawing is kept.');
    return null;
  }
  const result = {};
  for (const [name, model] of Object.entries(MODELS)) {
    const session = loaded.sessions[name];
    const tensor = new loaded.ort.Tensor('float32', x, [1, ...model.image]);
    const output = await session.run({ [session.inputNames[0]]: tensor });
    const probs = softmax(Array.from(output[session.outputNames[0]].data));
    result[name] = { probs, top: showProbabilities(name, probs) };
  }
  lastResult = result;
  const percent = (r) => `${(100 * r.probs[r.top]).toFixed(0)} %`;
  say(`PyTorch model: ${result.pytorch.top} (${percent(result.pytorch)}). ` +
      `Keras model: ${result.keras.top} (${percent(result.keras)}).`);
  return result;
}

function downloadedBytes() {
  return performance.getEntriesByType('resource')
    .filter((entry) => entry.name.startsWith(SITE.href))
    .reduce((sum, entry) => sum + (entry.transferSize || entry.decodedBodySize || 0), 0);
}

async function start() {
  const button = $('digits-start');
  button.disabled = true;
  say('Loading onnxruntime-web and the two models…');
  const started = performance.now();
  try {
    const ort = await import(new URL('ort/ort.wasm.min.mjs', SITE).href);
    ort.env.wasm.numThreads = 1;
    const options = { executionProviders: ['wasm'] };
    const sessions = {};
    for (const [name, model] of Object.entries(MODELS)) {
      sessions[name] = await ort.InferenceSession.create(new URL(model.file, SITE).href, options);
    }
    samples = (await (await fetch(new URL('models/samples.json', SITE))).json()).samples;
    loaded = { ort, sessions };
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const megabytes = (downloadedBytes() / 1e6).toFixed(1);
    button.textContent = 'Loaded';
    say(`Loaded ${megabytes} MB in ${seconds} s. Draw a digit, or show a sample one.`);
    $('digits-sample').disabled = false;
    resolveReady();
    const counts = strokesToCounts();
    if (counts) await classify(counts);
  } catch (error) {
    button.disabled = false;
    say(`Could not load the models: ${error}`);
    throw error;
  }
}

function point(event) {
  const box = pad.getBoundingClientRect();
  return [(event.clientX - box.left) * PAD / box.width, (event.clientY - box.top) * PAD / box.height];
}

pad.addEventListener('pointerdown', (event) => {
  pad.setPointerCapture(event.pointerId);
  current = [point(event)];
  strokes.push(current);
  redrawPad();
});
pad.addEventListener('pointermove', (event) => {
  if (!current) return;
  current.push(point(event));
  redrawPad();
});
const endStroke = async () => {
  if (!current) return;
  current = null;
  await classify(strokesToCounts());
};
pad.addEventListener('pointerup', endStroke);
pad.addEventListener('pointercancel', endStroke);

$('digits-start').addEventListener('click', start);
$('digits-clear').addEventListener('click', () => {
  strokes = [];
  clearPad();
  showPreview(new Array(64).fill(0));
  for (const name of Object.keys(MODELS)) $(`digits-${name}`).replaceChildren();
  say(loaded ? 'Cleared. Draw a digit.' : 'Cleared.');
});
$('digits-sample').addEventListener('click', async () => {
  const sample = samples[nextSample++ % samples.length];
  strokes = [];
  drawPixels(sample.pixels);
  await classify(sample.pixels);
  say(`${$('digits-status').textContent} The sample is a ${sample.label} from the test split.`);
});

window.digitsTest = {
  ready: () => readyPromise,
  setPixels: (values) => {
    if (values.length !== 64) throw new Error('setPixels needs 64 values on the 0..16 scale');
    return classify(values);
  },
  lastInput: () => lastInput,
  lastResult: () => lastResult,
};
clearPad();
