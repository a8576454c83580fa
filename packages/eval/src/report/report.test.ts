import { describe, expect, it } from 'vitest';
import { niceTicks, tickLabel } from './line-chart.js';
import { renderReport, type ReportData } from './render-report.js';
import { trellisSvg } from './trellis-svg.js';

const ops = ['none', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect', 'sep_conv_3x3', 'sep_conv_5x5', 'dil_conv_3x3', 'dil_conv_5x5'];
const genotype: [number, string][] = [[1, 'sep_conv_3x3'], [0, 'skip_connect'], [2, 'dil_conv_3x3'], [1, 'max_pool_3x3'], [3, 'sep_conv_5x5'], [0, 'avg_pool_3x3'], [4, 'dil_conv_5x5'], [2, 'skip_connect'], [5, 'sep_conv_3x3'], [1, 'sep_conv_5x5']];
const zerosBeta = (layers: number) => Array.from({ length: layers }, () => Array.from({ length: 4 }, () => [0, 0, 0]));
const data: ReportData = {
  title: 'Search <&> retrain',
  facts: [['backend', 'wasm']],
  architecture: { path: [1, 2, 2], genotype, filterMultiplier: 8 },
  layers: 3,
  ops,
  alphaBetaHistory: [0, 1, 2].map((epoch) => ({ epoch, alpha: Array.from({ length: 20 }, () => ops.map((_, k) => (k === 4 ? epoch : 0))), beta: zerosBeta(3) })),
  searchLog: [0, 1, 2].map((epoch) => ({ epoch, weightLoss: 2 - epoch / 2, architectureLoss: epoch < 1 ? null : 2 - epoch / 3, valMiou: epoch === 0 ? null : 0.1 * epoch })),
  retrainLog: [10, 20].map((iteration) => ({ iteration, trainLoss: 1 / iteration, valMiou: iteration / 40 })),
  metrics: { miou: 0.5, pixelAccuracy: 0.9, classes: [{ trainId: 0, name: 'road', iou: 0.75 }, { trainId: 1, name: 'sidewalk', iou: null }] },
  predictions: [{ name: 'a', overlay: 'predictions/a_overlay.png', compare: 'predictions/a_compare.png' }],
};

describe('report', () => {
  it('draws the decoded path on the trellis: one red segment per layer, starting at the stem', () => {
    const svg = trellisSvg({ layers: 3, path: [1, 2, 2], beta: zerosBeta(3) });
    expect(svg.match(/class="path-edge"/g)).toHaveLength(3);
    expect(svg).toContain('data-path="1,2,2"');
    // Nodes that exist: layer l has levels 0..min(l+1, 3): 2 + 3 + 4, plus the stem.
    expect(svg.match(/<circle/g)).toHaveLength(10);
    // β = 0: layer 0's two moves from the stem have β̂ = 1/2; a middle node's three moves 1/3.
    expect(svg).toContain('β̂ = 0.500');
    expect(svg).toContain('β̂ = 0.333');
  });

  it('renders every section with escaped text and no NaN', () => {
    const html = renderReport(data);
    expect(html).toContain('<title>Search &lt;&amp;&gt; retrain</title>');
    expect(html).toContain('<code id="path">[1, 2, 2]</code>');
    expect(html.match(/class="cell-edge"/g)).toHaveLength(10);
    expect(html).toContain('predictions/a_overlay.png');
    expect(html).toContain('75.0%');
    expect(html).not.toMatch(/NaN|undefined|Infinity/);
    expect(html).not.toContain('<script');
  });

  it('picks round tick values', () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(niceTicks(0.13, 0.91)).toEqual([0.2, 0.4, 0.6, 0.8]);
    expect(niceTicks(3, 3)).toEqual([3]);
    const fine = niceTicks(0.12495, 0.12505);
    expect(new Set(fine.map((t) => tickLabel(t, fine))).size).toBe(fine.length);
    expect(niceTicks(0, 1).map((t) => tickLabel(t, niceTicks(0, 1)))).toEqual(['0.00', '0.25', '0.50', '0.75', '1.00']);
    expect(tickLabel(20, [0, 20, 40])).toBe('20');
  });
});
