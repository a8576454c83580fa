import { writeFileAtomic } from '@adl/data-cityscapes';
import { normalizeBetas, softmax } from '@adl/decode';
import type { IouRow } from '../iou-table.js';
import { cellSvg } from './cell-svg.js';
import { lineChart, type Series } from './line-chart.js';
import { escapeXml } from './svg.js';
import { trellisSvg } from './trellis-svg.js';

/** Everything `report.html` shows; plain data as written by search, retrain and evaluation. */
export interface ReportData {
  readonly title: string;
  /** Key facts shown first (times, backend, mIoU against chance …). */
  readonly facts: readonly (readonly [string, string])[];
  readonly architecture: { readonly path: readonly number[]; readonly genotype: readonly (readonly [number, string])[]; readonly filterMultiplier: number };
  /** L of the searched trellis. */
  readonly layers: number;
  /** Op names in α's column order. */
  readonly ops: readonly string[];
  readonly alphaBetaHistory: readonly { readonly epoch: number; readonly alpha: readonly (readonly number[])[]; readonly beta: readonly (readonly (readonly number[])[])[] }[];
  readonly searchLog: readonly { readonly epoch: number; readonly weightLoss: number; readonly architectureLoss: number | null; readonly valMiou: number | null }[];
  readonly retrainLog: readonly { readonly iteration: number; readonly trainLoss: number; readonly valMiou: number }[];
  readonly metrics?: { readonly miou: number | null; readonly pixelAccuracy: number | null; readonly classes: readonly IouRow[] };
  /** Relative paths of prediction images (overlay and image | prediction | truth). */
  readonly predictions: readonly { readonly name: string; readonly overlay: string; readonly compare: string }[];
  /** The exported ONNX model, when the run wrote one. */
  readonly deployment?: Deployment;
}

/** An exported model beside the report: its relative path, input size and ONNX operator set. */
export interface Deployment {
  readonly model: string;
  readonly height: number;
  readonly width: number;
  readonly opset: number;
}

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:24px;margin-bottom:4px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse}td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:left}
.facts td:first-child{color:#666}.num{text-align:right;font-variant-numeric:tabular-nums}
.charts{display:flex;flex-wrap:wrap;gap:16px}.chart-title{font-weight:600;font-size:13px}
.tick,.legend,.edge-label,.node-label,.axis-label{font-size:11px;fill:#444}.grid{stroke:#eee}.frame{fill:none;stroke:#999}
.cell-node{fill:#f4f4f4;stroke:#888}.cell-node.input{fill:#e8f0fa}.cell-node.output{fill:#fdf0e0}
.bar{background:#4e79a7;height:10px;display:inline-block;vertical-align:middle}
.alpha td{width:26px;height:18px;padding:0;text-align:center;font-size:10px}.alpha th{font-size:11px;font-weight:normal;padding:2px 4px}
figure{margin:0 0 18px}figure img{display:block;width:100%;image-rendering:pixelated;border:1px solid #ddd;margin-bottom:4px}figcaption{color:#666;font-size:12px}
.predictions{display:grid;grid-template-columns:repeat(auto-fill,minmax(480px,1fr));gap:14px}
`;

const percent = (value: number | null) => (value === null ? '—' : `${(100 * value).toFixed(1)}%`);

/** Mean softmax weight of each op over all edges, per epoch. */
function alphaSeries(data: ReportData): Series[] {
  return data.ops.map((op, k) => ({
    name: op,
    points: data.alphaBetaHistory.map(({ epoch, alpha }) => [epoch, alpha.reduce((sum, row) => sum + softmax([...row])[k], 0) / alpha.length] as const),
  }));
}

/** β̂ of each move of the final path, per epoch: how sure the search became of that path. */
function betaSeries(data: ReportData): Series[] {
  const { path } = data.architecture;
  return path.map((level, l) => {
    const from = l === 0 ? 0 : path[l - 1];
    return { name: `layer ${l}: ${from}→${level}`, points: data.alphaBetaHistory.map(({ epoch, beta }) => [epoch, Math.exp(normalizeBetas(beta)[l][from][level - from + 1])] as const) };
  });
}

function alphaTable(data: ReportData): string {
  const last = data.alphaBetaHistory[data.alphaBetaHistory.length - 1];
  if (!last) return '';
  const header = `<tr><th>edge</th>${data.ops.map((op) => `<th title="${escapeXml(op)}">${escapeXml(op.replace(/_/g, ' '))}</th>`).join('')}</tr>`;
  const rows = last.alpha.map((row, edge) => {
    const weights = softmax([...row]);
    return `<tr><th>${edge}</th>${weights.map((w) => `<td style="background:rgba(78,121,167,${w.toFixed(3)})" title="${w.toFixed(3)}">${Math.round(100 * w)}</td>`).join('')}</tr>`;
  });
  return `<table class="alpha">${header}${rows.join('')}</table>`;
}

function iouTable(metrics: NonNullable<ReportData['metrics']>): string {
  const rows = metrics.classes
    .filter((row) => row.iou !== null)
    .map((row) => `<tr><td>${row.trainId}</td><td>${escapeXml(row.name)}</td><td class="num">${percent(row.iou)}</td><td><span class="bar" style="width:${Math.round(200 * (row.iou ?? 0))}px"></span></td></tr>`);
  return `<table><tr><th>id</th><th>class</th><th>IoU</th><th></th></tr>${rows.join('')}<tr><td></td><th>mIoU</th><th class="num">${percent(metrics.miou)}</th><td></td></tr><tr><td></td><td>pixel accuracy</td><td class="num">${percent(metrics.pixelAccuracy)}</td><td></td></tr></table>`;
}

/** The static report: no scripts, no server, images by relative path. */
export function renderReport(data: ReportData): string {
  const { architecture } = data;
  const sections: string[] = [];
  sections.push(`<h1>${escapeXml(data.title)}</h1>`);
  sections.push(`<table class="facts">${data.facts.map(([key, value]) => `<tr><td>${escapeXml(key)}</td><td>${escapeXml(value)}</td></tr>`).join('')}</table>`);
  sections.push(`<h2>Network level: the decoded path</h2><p>Path (levels per layer): <code id="path">[${architecture.path.join(', ')}]</code>; lines show β̂ after the last epoch, red is the Viterbi path.</p>${trellisSvg({ layers: data.layers, path: architecture.path, beta: data.alphaBetaHistory[data.alphaBetaHistory.length - 1]?.beta })}`);
  sections.push(`<h2>Cell level: the decoded cell</h2><p>Two strongest inputs per block (F = ${architecture.filterMultiplier} when retrained).</p>${cellSvg(architecture.genotype, data.ops)}`);
  const charts = [
    lineChart(alphaSeries(data), { title: 'α: mean softmax weight per op (over the edges)', xLabel: 'epoch' }),
    lineChart(betaSeries(data), { title: 'β̂ of each move of the final path', xLabel: 'epoch' }),
  ];
  sections.push(`<h2>Architecture parameters over the search</h2><div class="charts">${charts.join('')}</div><details><summary>softmax(α) per edge after the last epoch (%)</summary>${alphaTable(data)}</details>`);
  const curves = [
    lineChart(
      [
        { name: 'weight loss (trainA)', points: data.searchLog.map((r) => [r.epoch, r.weightLoss] as const) },
        { name: 'architecture loss (trainB)', points: data.searchLog.map((r) => [r.epoch, r.architectureLoss] as const) },
      ],
      { title: 'Search: loss', xLabel: 'epoch' },
    ),
    lineChart([{ name: 'held-out mIoU', points: data.searchLog.map((r) => [r.epoch, r.valMiou] as const) }], { title: 'Search: mIoU', xLabel: 'epoch', yRange: [0, 1] }),
    lineChart([{ name: 'train loss', points: data.retrainLog.map((r) => [r.iteration, r.trainLoss] as const) }], { title: 'Retrain: loss', xLabel: 'iteration' }),
    lineChart([{ name: 'val mIoU', points: data.retrainLog.map((r) => [r.iteration, r.valMiou] as const) }], { title: 'Retrain: mIoU', xLabel: 'iteration', yRange: [0, 1] }),
  ];
  sections.push(`<h2>Loss and mIoU</h2><div class="charts">${curves.join('')}</div>`);
  if (data.metrics) sections.push(`<h2>Per-class IoU (validation)</h2>${iouTable(data.metrics)}`);
  if (data.deployment) {
    const { model, height, width, opset } = data.deployment;
    sections.push(
      `<h2>Deploy</h2><p>The retrained network as an ONNX model (opset ${opset}): <a href="${escapeXml(model)}" download>${escapeXml(model)}</a>, input <code>image</code> [1, 3, ${height}, ${width}] RGB in 0–255, outputs <code>logits</code> and <code>labels</code>. To segment images with it in a browser: <code>pnpm --filter @example/browser start</code>, open the address it prints, and choose this file and an image.</p>`,
    );
  }
  if (data.predictions.length) {
    const figures = data.predictions.map(
      (p) => `<figure><img src="${escapeXml(p.overlay)}" alt="${escapeXml(`prediction overlay ${p.name}`)}"><img src="${escapeXml(p.compare)}" alt="${escapeXml(`image, prediction, ground truth ${p.name}`)}"><figcaption>${escapeXml(p.name)}: overlay; image | prediction | ground truth</figcaption></figure>`,
    );
    sections.push(`<h2>Predictions</h2><div class="predictions">${figures.join('')}</div>`);
  }
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeXml(data.title)}</title><style>${STYLE}</style></head><body>${sections.join('\n')}</body></html>\n`;
}

/** Renders and writes `path` atomically. */
export async function writeReport(path: string, data: ReportData): Promise<void> {
  await writeFileAtomic(path, renderReport(data));
}
