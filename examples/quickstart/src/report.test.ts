import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { kernelsFor } from '@adl/backend';
import { createProgram } from '@adl/cli';
import * as ort from 'onnxruntime-node';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onnxAgainstNet } from './onnx-logits.js';
import { runQuickstart, type QuickstartResult } from './run-quickstart.js';
import { QUICKSTART_SETTINGS } from './settings.js';

// Debian's chromium (scripts/setup.sh installs it); CHROMIUM_PATH overrides.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let result: QuickstartResult;
let outDir: string;
beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'adl-quickstart-'));
  result = await runQuickstart(QUICKSTART_SETTINGS.tiny, outDir, { progress: false, log: () => {} });
});
afterAll(() => rm(outDir, { recursive: true, force: true }));

describe('quickstart (tiny sizes)', () => {
  it('runs every step and leaves the architecture, checkpoints, metrics, predictions and report in one folder', async () => {
    const files = await readdir(outDir);
    for (const name of ['architecture.json', 'summary.json', 'report.html', 'model.onnx', 'search', 'retrain', 'eval', 'data']) expect(files).toContain(name);
    // The report links the exported model and says how to open the browser example.
    const html = await readFile(join(outDir, 'report.html'), 'utf8');
    expect(html).toContain('<a href="model.onnx" download>model.onnx</a>');
    expect(html).toContain('pnpm --filter @example/browser start');
    expect(await readdir(join(outDir, 'retrain', 'best'))).toContain('checkpoint.json');
    expect(await readdir(join(outDir, 'search'))).toContain('checkpoint.json');
    expect((await readdir(join(outDir, 'eval', 'predictions'))).filter((f) => f.endsWith('.png'))).toHaveLength(6);
    // Label ids alone in submission/: the official scripts' CITYSCAPES_RESULTS.
    expect((await readdir(join(outDir, 'eval', 'submission'))).every((f) => f.endsWith('_labelIds.png'))).toBe(true);
    expect(await readdir(join(outDir, 'eval', 'submission'))).toHaveLength(2);
    const summary = JSON.parse(await readFile(join(outDir, 'summary.json'), 'utf8'));
    expect(summary.path).toEqual(result.path);
    expect(summary.eval.miou).toBe(result.miou);
  });

  it("model.onnx gives the retrained net's logits in ONNX Runtime on a validation image", async () => {
    const { height, width } = QUICKSTART_SETTINGS.tiny.images;
    const { difference, scale } = await onnxAgainstNet(outDir, height, width, kernelsFor(tf.getBackend()));
    console.log(`quickstart net (tiny) ${height}×${width}: max |logit difference| ${difference.toExponential(2)}, max |logit| ${scale.toFixed(1)}`);
    expect(difference).toBeLessThan(1e-4 * scale);
  });

  it('adl report <runDir> rebuilds the same report.html from the run folder', async () => {
    const written = await readFile(join(outDir, 'report.html'));
    await rm(join(outDir, 'report.html'));
    const printed: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) => (printed.push(chunk), true)) as typeof process.stdout.write;
    try {
      await createProgram().parseAsync(['node', 'adl', 'report', outDir]);
    } finally {
      process.stdout.write = write;
    }
    expect(printed.join('')).toBe(`${join(outDir, 'report.html')}\n`);
    expect(await readFile(join(outDir, 'report.html'))).toEqual(written);
  });

  it.skipIf(process.env.ADL_SKIP_BROWSER_TESTS === '1')('report.html loads in headless Chromium without console errors and shows the path', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install chromium), set CHROMIUM_PATH, or ADL_SKIP_BROWSER_TESTS=1`);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const problems: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
      });
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));
      await page.goto(pathToFileURL(join(outDir, 'report.html')).href, { waitUntil: 'load' });
      expect(problems).toEqual([]);
      expect(await page.locator('svg.trellis').getAttribute('data-path')).toBe(result.path.join(','));
      expect(await page.locator('svg.trellis .path-edge').count()).toBe(result.path.length);
      expect(await page.locator('svg.trellis').isVisible()).toBe(true);
      expect(await page.locator('#path').textContent()).toBe(`[${result.path.join(', ')}]`);
      expect(await page.locator('svg.cell .cell-edge').count()).toBe(10);
      expect(await page.locator('svg.chart').count()).toBe(6);
      const images = await page.locator('img').evaluateAll((elements) => elements.map((img) => (img as unknown as { naturalWidth: number }).naturalWidth));
      expect(images.length).toBe(4);
      expect(images.every((width) => width > 0)).toBe(true);
      await page.screenshot({ path: join(outDir, 'report.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
