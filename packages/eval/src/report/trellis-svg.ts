import { LEVELS, levelStride, MOVES, nodeExists, normalizeBetas, validMoves } from '@adl/decode';
import { escapeXml } from './svg.js';

/**
 * The network-level search space as a picture: the stem, then L layers × 4 levels (nodes that exist
 * only), every valid move drawn with opacity β̂ (when β is given), and the decoded path on top in red.
 */
export function trellisSvg({ layers, path, beta }: { layers: number; path: readonly number[]; beta?: readonly (readonly (readonly number[])[])[] }): string {
  const step = Math.max(34, Math.min(70, 640 / (layers + 1)));
  const rowGap = 56;
  const left = 104;
  const top = 34;
  const width = left + step * layers + 30;
  const height = top + rowGap * (LEVELS - 1) + 40;
  const x = (layer: number) => left + step * (layer + 1);
  const y = (level: number) => top + rowGap * level;
  const betaHat = beta ? normalizeBetas(beta) : undefined;
  const parts: string[] = [];
  for (let level = 0; level < LEVELS; level++) parts.push(`<text x="8" y="${y(level) + 4}" class="tick">level ${level} · ×${levelStride(level)}</text>`);
  for (let l = 0; l < layers; l += Math.ceil(layers / 12)) parts.push(`<text x="${x(l)}" y="${height - 8}" text-anchor="middle" class="tick">${l}</text>`);
  parts.push(`<text x="${left}" y="${height - 8}" text-anchor="middle" class="tick">stem</text>`);
  for (let l = 0; l < layers; l++) {
    for (let j = 0; j < LEVELS; j++) {
      for (let k = 0; k < MOVES; k++) {
        if (!validMoves(l, j)[k]) continue;
        const target = j + k - 1;
        const weight = betaHat ? Math.exp(betaHat[l][j][k]) : 0.35;
        parts.push(`<line x1="${x(l - 1)}" y1="${y(j)}" x2="${x(l)}" y2="${y(target)}" stroke="#555" stroke-width="${(1 + 3 * weight).toFixed(2)}" stroke-opacity="${(0.1 + 0.8 * weight).toFixed(2)}"><title>β̂ = ${weight.toFixed(3)}</title></line>`);
      }
    }
  }
  const points = [[x(-1), y(0)], ...path.map((level, l) => [x(l), y(level)])];
  for (let l = 0; l < path.length; l++) {
    const [x1, y1] = points[l];
    const [x2, y2] = points[l + 1];
    parts.push(`<line class="path-edge" x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="#d62728" stroke-width="4" stroke-linecap="round"/>`);
  }
  parts.push(`<circle cx="${x(-1)}" cy="${y(0)}" r="7" fill="#333"><title>stem (×4)</title></circle>`);
  for (let l = 0; l < layers; l++) {
    for (let level = 0; level < LEVELS && nodeExists(l, level); level++) {
      const onPath = path[l] === level;
      parts.push(`<circle cx="${x(l)}" cy="${y(level)}" r="${onPath ? 6.5 : 4.5}" fill="${onPath ? '#d62728' : '#fff'}" stroke="${onPath ? '#d62728' : '#777'}" stroke-width="1.5"><title>layer ${l}, level ${level}${onPath ? ' (path)' : ''}</title></circle>`);
    }
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" class="trellis" data-path="${escapeXml(path.join(','))}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="decoded path ${escapeXml(path.join(' '))}">${parts.join('')}</svg>`;
}
