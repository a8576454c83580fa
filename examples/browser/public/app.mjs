// The page's logic: load an exported model (input `image` [1, 3, H, W], RGB 0–255; output `labels`
// [1, H, W]) and an image, run the model on the image scaled to the model's size, and draw the
// labels over the image with the class legend.
import * as ort from './vendor/ort.wasm.min.mjs';

// One thread: several need a cross-origin-isolated page, which a plain static server does not give.
ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmPaths = new URL('./vendor/', import.meta.url).href;

const { names, palette } = await (await fetch('classes.json')).json();
const status = document.getElementById('status');
const chosen = { model: null, image: null };
let session = null;

function say(text, isError = false) {
  status.textContent = text;
  status.classList.toggle('error', isError);
}

async function loadModel(file) {
  say(`Loading ${file.name} …`);
  session = await ort.InferenceSession.create(new Uint8Array(await file.arrayBuffer()), { executionProviders: ['wasm'] }).catch((error) => {
    throw new Error(`${file.name}: not an ONNX model ONNX Runtime can load (${String(error.message ?? error).split('\n')[0]})`);
  });
  const [input] = session.inputMetadata;
  if (!input?.isTensor || input.shape.length !== 4 || input.shape[1] !== 3 || !session.outputNames.includes('labels')) {
    session = null;
    throw new Error(`${file.name}: not an exported segmentation model (expected input image [1, 3, H, W] and output labels)`);
  }
  chosen.model = file;
}

async function loadImage(file) {
  // The file's own pixel values: no colour-space conversion, no premultiplied alpha.
  const bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' }).catch(() => {
    throw new Error(`${file.name}: not an image this browser can decode`);
  });
  chosen.image = { file, bitmap };
}

/** The image at the model's size as planar RGB floats (0–255), and its RGBA pixels for the overlay. */
function modelInput(bitmap, height, width) {
  const canvas = document.getElementById('input');
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d', { willReadFrequently: true });
  context.drawImage(bitmap, 0, 0, width, height);
  const { data } = context.getImageData(0, 0, width, height);
  const planes = new Float32Array(3 * height * width);
  for (let i = 0; i < height * width; i++) for (let c = 0; c < 3; c++) planes[c * height * width + i] = data[4 * i + c];
  return { planes, rgba: data };
}

function drawOverlay(rgba, labels, height, width) {
  const canvas = document.getElementById('overlay');
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d');
  const out = context.createImageData(width, height);
  for (let i = 0; i < height * width; i++) {
    const color = palette[labels[i]] ?? [0, 0, 0];
    for (let c = 0; c < 3; c++) out.data[4 * i + c] = Math.round(0.5 * rgba[4 * i + c] + 0.5 * color[c]);
    out.data[4 * i + 3] = 255;
  }
  context.putImageData(out, 0, 0);
}

function drawLegend(labels) {
  const counts = new Map();
  for (const id of labels) counts.set(id, (counts.get(id) ?? 0) + 1);
  const legend = document.getElementById('legend');
  legend.replaceChildren(
    ...[...counts].sort((a, b) => b[1] - a[1]).map(([id, count]) => {
      const item = document.createElement('li');
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = `rgb(${(palette[id] ?? [0, 0, 0]).join(',')})`;
      item.append(swatch, `${names[id] ?? `class ${id}`} ${((100 * count) / labels.length).toFixed(1)}%`);
      item.dataset.trainId = String(id);
      return item;
    }),
  );
}

async function segment() {
  if (!session || !chosen.image) return;
  const [, , height, width] = session.inputMetadata[0].shape;
  say(`Segmenting ${chosen.image.file.name} at ${height}×${width} …`);
  const started = performance.now();
  const { planes, rgba } = modelInput(chosen.image.bitmap, height, width);
  const result = await session.run({ image: new ort.Tensor('float32', planes, [1, 3, height, width]) });
  const labels = Int32Array.from(result.labels.data, Number);
  drawOverlay(rgba, labels, height, width);
  drawLegend(labels);
  // For scripts and tests: the label map (train ids, row-major) and its size.
  window.adlResult = { labels: Array.from(labels), height, width };
  document.body.dataset.state = 'done';
  say(`${chosen.image.file.name} with ${chosen.model.name}: ${(performance.now() - started).toFixed(0)} ms`);
}

async function take(files) {
  try {
    document.body.dataset.state = 'working';
    for (const file of files) {
      if (file.name.toLowerCase().endsWith('.onnx')) await loadModel(file);
      else await loadImage(file);
    }
    if (!session) say('Now choose a model (.onnx).');
    else if (!chosen.image) say('Now choose an image.');
    else await segment();
  } catch (error) {
    document.body.dataset.state = 'error';
    say(error.message, true);
  }
}

document.getElementById('model').addEventListener('change', (event) => take([...event.target.files]));
document.getElementById('image').addEventListener('change', (event) => take([...event.target.files]));
const drop = document.getElementById('drop');
drop.addEventListener('dragover', (event) => {
  event.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (event) => {
  event.preventDefault();
  drop.classList.remove('over');
  take([...event.dataTransfer.files]);
});
document.body.dataset.state = 'ready';
