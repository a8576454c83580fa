import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useFastestTestBackend } from '@adl/backend/test';
import { runExport, runPredict } from '@adl/cli';
import { generateSynthetic, labelIdToTrainId, listSplit, readPng } from '@adl/data-cityscapes';
import { retrain } from '@adl/search';
import { chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript modules of this example
import { buildSite } from './build-site.mjs';
// @ts-expect-error plain JavaScript modules of this example
import { serveSite } from './serve.mjs';

// Debian's chromium (scripts/setup.sh installs it); CHROMIUM_PATH overrides.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Where the test leaves the page's screenshot (git-ignored). */
const OUT_DIR = fileURLToPath(new URL('../out/', import.meta.url));
const [HEIGHT, WIDTH] = [64, 128];

const backend = await useFastestTestBackend();
let root: string;
let model: string;
let image: string;
let siteDir: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'adl-browser-'));
  const dataRoot = join(root, 'data');
  // The fixture: a synthetic Cityscapes-format image at the model's input size.
  await generateSynthetic({ dir: dataRoot, count: { train: 2, val: 1 }, height: HEIGHT, width: WIDTH, seed: 9 });
  const genotype = [[1, 'sep_conv_3x3'], [0, 'skip_connect'], [2, 'atrous_conv_3x3'], [1, 'avg_pool_3x3'], [3, 'skip_connect'], [0, 'max_pool_3x3'], [4, 'sep_conv_5x5'], [1, 'skip_connect'], [5, 'skip_connect'], [2, 'atrous_conv_5x5']];
  await writeFile(join(root, 'arch.json'), JSON.stringify({ name: 'tiny', path: [0, 1], genotype, filterMultiplier: 4 }));
  await retrain(
    { dataRoot, outDir: join(root, 'retrain'), architecture: join(root, 'arch.json'), asppChannels: 8, asppRates: [1, 2, 3], iterations: 4, evalEvery: 4, batchSize: 2, crop: 64, backend, batchNormDecay: 0.5 },
    { progress: false, log: () => {} },
  );
  model = join(root, 'model.onnx');
  await runExport({ checkpoint: join(root, 'retrain', 'best'), out: model, height: HEIGHT, width: WIDTH, numClasses: 19, backend }, () => {});
  const [sample] = await listSplit(dataRoot, 'val');
  image = join(sample.root, sample.imageFile);
  siteDir = buildSite(join(root, 'site'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** The built site served, the page opened in headless Chromium and ready for files; `use` runs on it; everything is closed after. */
async function withPage(use: (page: Page) => Promise<void>): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install chromium), set CHROMIUM_PATH, or ADL_SKIP_BROWSER_TESTS=1`);
  const { server, url } = await serveSite(siteDir, 0);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  try {
    const page = await browser.newPage({ viewport: { width: 900, height: 700 } });
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForSelector('body[data-state="ready"]');
    await use(page);
  } finally {
    await browser.close();
    server.close();
  }
}

describe.skipIf(process.env.ADL_SKIP_BROWSER_TESTS === '1')('examples/browser in headless Chromium', () => {
  it("segments a chosen image with an exported model: the page's label map is adl predict's", async () => {
    // adl predict on the same image, with the same checkpoint: label ids → train ids.
    const predicted = join(root, 'predicted');
    await runPredict([image], { checkpoint: join(root, 'retrain', 'best'), out: predicted, scales: [1], flip: false, backend }, () => {});
    const labelIdsPng = (await readdir(predicted)).find((name) => name.endsWith('_labelIds.png'))!;
    const labelIds = await readPng(join(predicted, labelIdsPng), 1);
    const expected = Array.from(labelIds.data, (id) => labelIdToTrainId(id));

    await withPage(async (page) => {
      const problems: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
      });
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      await page.setInputFiles('#model', model);
      await page.setInputFiles('#image', image);
      await page.waitForSelector('body[data-state="done"], body[data-state="error"]', { timeout: 120_000 });
      expect(problems).toEqual([]);
      expect(await page.locator('#status').getAttribute('class')).not.toBe('error');
      const result = (await page.evaluate(() => (globalThis as unknown as { adlResult: { labels: number[]; height: number; width: number } }).adlResult))!;
      expect([result.height, result.width]).toEqual([HEIGHT, WIDTH]);
      const agreeing = result.labels.filter((id, i) => id === expected[i]).length;
      console.log(`page vs adl predict: ${agreeing} of ${expected.length} pixels agree`);
      expect(agreeing).toBe(expected.length);
      // The legend lists the classes present, most frequent first.
      const legendIds = await page.locator('#legend li').evaluateAll((items) => items.map((item) => Number((item as unknown as { dataset: { trainId: string } }).dataset.trainId)));
      expect(new Set(legendIds)).toEqual(new Set(expected));
      await mkdir(OUT_DIR, { recursive: true });
      await page.screenshot({ path: join(OUT_DIR, 'screenshot.png'), fullPage: true });
    });
  });

  it('says which file is wrong when the model is not an exported segmentation model', async () => {
    const bogus = join(root, 'bogus.onnx');
    await writeFile(bogus, 'not a model');
    await withPage(async (page) => {
      await page.setInputFiles('#model', bogus);
      await page.waitForSelector('body[data-state="error"]');
      expect(await page.locator('#status').textContent()).toMatch(/bogus\.onnx/);
    });
  });
});
