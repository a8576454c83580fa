import { colourOf, escapeXml, shortNumber } from './svg.js';

export interface Series {
  readonly name: string;
  /** [x, y] points; null y values break the line. */
  readonly points: readonly (readonly [number, number | null])[];
}

export interface LineChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel?: string;
  readonly yRange?: readonly [number, number];
  readonly width?: number;
  readonly height?: number;
}

/** Five "nice" tick values covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / (count - 1);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** A tick value with as many decimals as the tick spacing needs (so that neighbours differ). */
export function tickLabel(value: number, ticks: readonly number[]): string {
  const step = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : Math.abs(value) || 1;
  const decimals = Math.max(0, Math.min(8, Math.ceil(-Math.log10(step) - 1e-9) + (step / 10 ** Math.floor(Math.log10(step)) === 2.5 ? 1 : 0)));
  return value.toFixed(decimals);
}

/** A static SVG line chart with axes, ticks, markers and a legend. */
export function lineChart(series: readonly Series[], { title, xLabel, yLabel = '', yRange, width = 460, height = 260 }: LineChartOptions): string {
  const margin = { left: 52, right: 12, top: 28, bottom: 40 };
  const legendHeight = 16 * Math.ceil(series.length / 3);
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const all = series.flatMap((s) => s.points.filter((p): p is [number, number] => p[1] !== null));
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const [xMin, xMax] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  let [yMin, yMax] = yRange ?? (ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1]);
  if (yMax === yMin) [yMin, yMax] = [yMin - 0.5, yMax + 0.5];
  const xSpan = xMax === xMin ? 1 : xMax - xMin;
  const sx = (x: number) => margin.left + (xMax === xMin ? plotW / 2 : ((x - xMin) / xSpan) * plotW);
  const sy = (y: number) => margin.top + plotH - ((y - yMin) / (yMax - yMin)) * plotH;
  const parts: string[] = [];
  parts.push(`<text x="${width / 2}" y="16" text-anchor="middle" class="chart-title">${escapeXml(title)}</text>`);
  const yTicks = niceTicks(yMin, yMax);
  for (const t of yTicks) {
    parts.push(`<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${sy(t)}" y2="${sy(t)}" class="grid"/>`);
    parts.push(`<text x="${margin.left - 6}" y="${sy(t) + 4}" text-anchor="end" class="tick">${tickLabel(t, yTicks)}</text>`);
  }
  const xTicks = xMax - xMin <= 10 && Number.isInteger(xMin) ? Array.from({ length: xMax - xMin + 1 }, (_, i) => xMin + i) : niceTicks(xMin, xMax);
  for (const t of xTicks) parts.push(`<text x="${sx(t)}" y="${margin.top + plotH + 16}" text-anchor="middle" class="tick">${tickLabel(t, xTicks)}</text>`);
  parts.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" class="frame"/>`);
  parts.push(`<text x="${margin.left + plotW / 2}" y="${height - 6}" text-anchor="middle" class="axis-label">${escapeXml(xLabel)}</text>`);
  if (yLabel) parts.push(`<text transform="translate(12 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle" class="axis-label">${escapeXml(yLabel)}</text>`);
  series.forEach((s, index) => {
    const colour = colourOf(index);
    let segment: string[] = [];
    const flush = () => {
      if (segment.length > 1) parts.push(`<polyline points="${segment.join(' ')}" fill="none" stroke="${colour}" stroke-width="2"/>`);
      segment = [];
    };
    for (const [x, y] of s.points) {
      if (y === null) {
        flush();
        continue;
      }
      segment.push(`${sx(x).toFixed(1)},${sy(y).toFixed(1)}`);
      parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="${colour}"><title>${escapeXml(`${s.name}: ${shortNumber(y, 4)} at ${xLabel} ${x}`)}</title></circle>`);
    }
    flush();
  });
  const legend = series.map((s, index) => {
    const x = (index % 3) * (width / 3) + 8;
    const y = height + 12 + 16 * Math.floor(index / 3);
    return `<rect x="${x}" y="${y - 8}" width="10" height="10" fill="${colourOf(index)}"/><text x="${x + 14}" y="${y + 1}" class="legend">${escapeXml(s.name)}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="${width}" height="${height + legendHeight + 4}" viewBox="0 0 ${width} ${height + legendHeight + 4}" role="img" aria-label="${escapeXml(title)}">${parts.join('')}${legend.join('')}</svg>`;
}
