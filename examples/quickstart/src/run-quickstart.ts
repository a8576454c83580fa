import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { generateSynthetic, listSplit, TRAIN_CLASS_NAMES, writeFileAtomic } from '@adl/data-cityscapes';
import { decodeArchitecture } from '@adl/decode';
import { evaluateSamples, exportOnnx, ONNX_OPSET, RUN_FOLDERS, writeRunReport, type Deployment } from '@adl/eval';
import { PRIMITIVES } from '@adl/ops';
import { loadTrainedNet, retrain, search, selectInstalledBackend } from '@adl/search';
import { parseArchitecture } from '@adl/trellis';
import { majorityClassMiou } from './chance.js';
import type { QuickstartSettings } from './settings.js';

/** The exported model's name in the run folder. */
export const MODEL_FILE = 'model.onnx';

export interface QuickstartResult {
  readonly outDir: string;
  readonly report: string;
  readonly path: number[];
  readonly miou: number;
  readonly chanceMiou: number;
  readonly seconds: Record<string, number>;
}

/**
 * The whole pipeline on a synthetic Cityscapes-format set: generate → search → decode → retrain →
 * evaluate → report, everything under `outDir` (replaced on each run).
 */
export async function runQuickstart(settings: QuickstartSettings, outDir: string, { progress = true, log = (line: string) => console.log(line) } = {}): Promise<QuickstartResult> {
  const seconds: Record<string, number> = {};
  const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    log(`\n== ${name}`);
    const result = await work();
    seconds[name] = (performance.now() - started) / 1000;
    log(`== ${name}: ${seconds[name].toFixed(1)} s`);
    return result;
  };
  const quiet = (line: string) => (progress ? log(line) : undefined);
  await rm(outDir, { recursive: true, force: true });
  const dataRoot = join(outDir, 'data');
  const searchDir = join(outDir, RUN_FOLDERS.search);
  const retrainDir = join(outDir, RUN_FOLDERS.retrain);
  const evalDir = join(outDir, RUN_FOLDERS.eval);
  const { backend, kernels } = await selectInstalledBackend({ log: quiet });

  await timed('generate', () => generateSynthetic({ dir: dataRoot, count: { train: settings.images.train, val: settings.images.val }, height: settings.images.height, width: settings.images.width, seed: 0 }));

  const s = settings.search;
  const searched = await timed('search', () =>
    search(
      { dataRoot, outDir: searchDir, epochs: s.epochs, warmupEpochs: s.warmupEpochs, stepsPerEpoch: s.stepsPerEpoch, layers: s.layers, filterMultiplier: s.filterMultiplier, crop: s.crop, scale: [0.75, 1.25], valImages: s.valImages, checkpointEvery: 1000, architecture: { lr: s.architectureLr }, recompute: false },
      { progress, log: quiet },
    ),
  );

  // Decoding needs α and β only (the search wrote the same architecture; this is the explicit step).
  const architecture = await timed('decode', async () => {
    const { path, genotype } = decodeArchitecture(searched.alpha, searched.beta, { blocks: 5, ops: PRIMITIVES });
    const decoded = parseArchitecture({ name: 'quickstart', path, genotype, filterMultiplier: settings.retrain.filterMultiplier });
    await writeFileAtomic(join(outDir, 'architecture.json'), `${JSON.stringify(decoded, null, 2)}\n`);
    log(`path [${decoded.path.join(', ')}]; cell ${decoded.genotype.map(([input, op]) => `${input}:${op}`).join(' ')}`);
    return decoded;
  });

  const r = settings.retrain;
  const retrained = await timed('retrain', () =>
    retrain(
      { dataRoot, outDir: retrainDir, architecture: join(outDir, 'architecture.json'), asppChannels: r.asppChannels, asppRates: r.asppRates, iterations: r.iterations, evalEvery: r.evalEvery, batchSize: r.batchSize, crop: r.crop, lr: r.lr, checkpointEvery: r.iterations, scale: [0.75, 1.25], batchNormDecay: settings.retrainBatchNormDecay, recompute: false },
      { progress, log: quiet },
    ),
  );

  const val = await listSplit(dataRoot, 'val');
  // The best checkpoint, loaded once: evaluated, then exported as ONNX at the images' size for the
  // browser example (examples/browser).
  const { net: best } = await loadTrainedNet(join(retrainDir, 'best'));
  let evaluation: Awaited<ReturnType<typeof evaluateSamples>>;
  let deployment: Deployment;
  try {
    evaluation = await timed('evaluate', () =>
      evaluateSamples(best, val, { kernels, numClasses: 19, classNames: TRAIN_CLASS_NAMES, outDir: evalDir, scales: settings.eval.scales, flip: settings.eval.flip, imagesWritten: settings.eval.imagesWritten }),
    );
    deployment = await timed('export', async () => {
      const { height, width } = settings.images;
      await writeFileAtomic(join(outDir, MODEL_FILE), (await exportOnnx(best, { height, width })).bytes);
      return { model: MODEL_FILE, height, width, opset: ONNX_OPSET };
    });
  } finally {
    best.dispose();
  }
  const chance = await majorityClassMiou(await listSplit(dataRoot, 'train'), val, 19);
  const total = Object.values(seconds).reduce((a, b) => a + b, 0);
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  const facts: [string, string][] = [
    ['data', `synthetic Cityscapes-format set, ${settings.images.train} train / ${settings.images.val} val images of ${settings.images.height}×${settings.images.width}`],
    ['backend', `${backend} (tfjs ${tf.getBackend()})`],
    ['search', `L = ${s.layers}, F = ${s.filterMultiplier}, ${s.epochs} epochs (${s.warmupEpochs} warm-up) × ${s.stepsPerEpoch} steps, ${s.crop}² crops, α/β Adam lr ${s.architectureLr}: ${seconds.search.toFixed(0)} s`],
    ['retrain', `F = ${r.filterMultiplier}, ASPP ${r.asppChannels} ch, rates ${r.asppRates.join('/')}, ${r.iterations} iterations × batch ${r.batchSize} of ${r.crop}² crops: ${seconds.retrain.toFixed(0)} s`],
    ['validation mIoU', `${pct(evaluation.metrics.miou)} (scales ${evaluation.scales.join(', ')}${evaluation.flip ? ' + flip' : ''}); pixel accuracy ${pct(evaluation.metrics.pixelAccuracy)}`],
    ['chance', `${pct(chance.miou)} mIoU, ${pct(chance.pixelAccuracy)} pixel accuracy (every pixel "${TRAIN_CLASS_NAMES[chance.trainId]}", the most frequent training class)`],
    ['exported model', `${MODEL_FILE}, ONNX opset ${deployment.opset}, input 1×3×${deployment.height}×${deployment.width}: ${seconds.export.toFixed(1)} s`],
    ['total time', `${total.toFixed(0)} s`],
  ];
  const summary = {
    backend,
    tfjsBackend: tf.getBackend(),
    seconds: { ...seconds, total },
    path: architecture.path,
    genotype: architecture.genotype,
    retrainBest: retrained.best ?? null,
    eval: { miou: evaluation.metrics.miou, pixelAccuracy: evaluation.metrics.pixelAccuracy, scales: evaluation.scales, flip: evaluation.flip },
    chance: { majorityClass: TRAIN_CLASS_NAMES[chance.trainId], miou: chance.miou, pixelAccuracy: chance.pixelAccuracy },
    // The first table of report.html (`adl report` reads it from here too).
    report: { title: 'Auto-DeepLab quickstart: search → decode → retrain → evaluate', facts },
    deployment,
  };
  await writeFileAtomic(join(outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  const report = await writeRunReport(outDir);
  return { outDir, report, path: architecture.path, miou: evaluation.metrics.miou, chanceMiou: chance.miou, seconds: { ...seconds, total } };
}
