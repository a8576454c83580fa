// Decode time of a 2048×1024 Cityscapes-format PNG (RGB image and 8-bit label map) with sharp
// (libvips, native, off the JavaScript thread) and two pure-JS decoders, and whether each returns
// the same pixels.
//
//   node bench/png-codecs.mjs [--repeats 5]
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { decode as fastPngDecode } from 'fast-png';
import pngjs from 'pngjs';
import sharp from 'sharp';
import { generateSynthetic, readPng } from '../dist/index.js';

const { values: args } = parseArgs({ options: { repeats: { type: 'string', default: '5' } } });
const repeats = Number(args.repeats);
const dir = mkdtempSync(join(tmpdir(), 'adl-png-bench-'));
const [imageFile, labelFile] = await generateSynthetic({ dir, count: 1, height: 1024, width: 2048, seed: 1 });
const files = { image: join(dir, imageFile), label: join(dir, labelFile) };

const decoders = {
  sharp: async (path) => {
    const { data } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
    return new Uint8Array(data);
  },
  'fast-png': async (path) => fastPngDecode(readFileSync(path)).data,
  pngjs: async (path) => pngjs.PNG.sync.read(readFileSync(path), { skipRescale: true }).data,
};

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const rows = [];
for (const [kind, path] of Object.entries(files)) {
  const reference = (await readPng(path, kind === 'image' ? 3 : 1)).data;
  for (const [name, decode] of Object.entries(decoders)) {
    const times = [];
    let pixels;
    for (let i = 0; i < repeats; i++) {
      const start = performance.now();
      pixels = await decode(path);
      times.push(performance.now() - start);
    }
    // pngjs always returns RGBA: compare its colour channels only.
    const channels = kind === 'image' ? 3 : 1;
    const stride = pixels.length / (2048 * 1024);
    let same = true;
    for (let p = 0; p < 2048 * 1024 && same; p++) for (let c = 0; c < channels; c++) if (pixels[p * stride + c] !== reference[p * channels + c]) same = false;
    rows.push({ kind, name, ms: median(times), same });
  }
}
console.log(`\nDecoding a 2048×1024 PNG (median of ${repeats}):\n`);
console.log('| file | decoder | ms | vs sharp | same pixels |');
console.log('| --- | --- | ---: | ---: | --- |');
for (const row of rows) {
  const base = rows.find((r) => r.kind === row.kind && r.name === 'sharp').ms;
  console.log(`| ${row.kind} | ${row.name} | ${row.ms.toFixed(1)} | ${(row.ms / base).toFixed(2)}× | ${row.same ? 'yes' : 'NO'} |`);
}
