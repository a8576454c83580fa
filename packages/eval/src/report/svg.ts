/** Escapes text for HTML and SVG content and attribute values. */
export function escapeXml(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Categorical colours (Tableau 10), distinguishable on white. */
export const SERIES_COLOURS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'] as const;

export const colourOf = (index: number) => SERIES_COLOURS[index % SERIES_COLOURS.length];

/** A number with at most `digits` significant digits, without trailing zeros. */
export function shortNumber(value: number, digits = 3): string {
  if (value === 0) return '0';
  return String(Number(value.toPrecision(digits)));
}
