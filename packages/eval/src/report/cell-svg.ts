import { colourOf, escapeXml } from './svg.js';

/**
 * A fixed cell as an arc diagram: inputs h_{k−2}, h_{k−1}, blocks 0…B−1 and the concatenated
 * output on one line; each kept edge an arc labelled with its op (one colour per op).
 */
export function cellSvg(genotype: readonly (readonly [number, string])[], ops: readonly string[]): string {
  const blocks = genotype.length / 2;
  const names = ['h_{k−2}', 'h_{k−1}', ...Array.from({ length: blocks }, (_, b) => `block ${b}`), 'concat'];
  const gap = 96;
  const width = 40 + gap * (names.length - 1) + 40;
  const baseline = 190;
  const height = 300;
  const x = (node: number) => 40 + gap * node;
  const parts: string[] = [];
  const labels: { x: number; y: number; width: number; up: boolean; text: string; colour: string }[] = [];
  genotype.forEach(([input, op], edge) => {
    const block = Math.floor(edge / 2);
    const [x1, x2] = [x(input), x(block + 2)];
    const up = edge % 2 === 0;
    // Arcs of equal span would coincide: stagger their heights by edge.
    const lift = (Math.min(120, 18 + (x2 - x1) * 0.26) + 14 * (edge % 4)) * (up ? -1 : 0.6);
    const colour = colourOf(Math.max(0, ops.indexOf(op)));
    parts.push(`<path d="M${x1},${baseline} Q${(x1 + x2) / 2},${baseline + lift * 1.5} ${x2},${baseline}" fill="none" stroke="${colour}" stroke-width="2.2" class="cell-edge"><title>${escapeXml(`${names[input]} → ${names[block + 2]}: ${op}`)}</title></path>`);
    labels.push({ x: (x1 + x2) / 2, y: baseline + lift * 0.75 + (up ? -3 : 11), width: 6.2 * op.length, up, text: op, colour });
  });
  // Move a label away from the baseline while it overlaps one placed before it.
  const placed: typeof labels = [];
  for (const label of labels) {
    while (placed.some((other) => Math.abs(other.x - label.x) < (other.width + label.width) / 2 + 4 && Math.abs(other.y - label.y) < 12)) label.y += label.up ? -12 : 12;
    placed.push(label);
    parts.push(`<text x="${label.x}" y="${label.y}" text-anchor="middle" class="edge-label" fill="${label.colour}">${escapeXml(label.text)}</text>`);
  }
  for (let b = 0; b < blocks; b++) {
    parts.push(`<line x1="${x(b + 2)}" y1="${baseline}" x2="${x(names.length - 1)}" y2="${baseline}" stroke="#bbb" stroke-dasharray="3 3"/>`);
  }
  names.forEach((name, node) => {
    const kind = node < 2 ? 'input' : node === names.length - 1 ? 'output' : 'block';
    parts.push(`<rect x="${x(node) - 34}" y="${baseline - 12}" width="68" height="24" rx="6" class="cell-node ${kind}"/>`);
    parts.push(`<text x="${x(node)}" y="${baseline + 4}" text-anchor="middle" class="node-label">${escapeXml(name)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" class="cell" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="cell genotype">${parts.join('')}</svg>`;
}
