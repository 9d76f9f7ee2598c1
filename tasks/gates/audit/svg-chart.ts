/**
 * A small, dependency-free SVG chart: one line panel per metric showing its value across audit
 * baseline rows. Output is deterministic (fixed precision, no ids from the clock), so the report
 * can be diffed between audits.
 */
export interface Series {
  name: string;
  values: number[];
}

const W = 320;
const H = 90;
const PAD = { left: 44, right: 10, top: 22, bottom: 18 };
const COLS = 2;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const fmt = (x: number): string =>
  Number.isInteger(x) ? String(x) : x.toFixed(3).replace(/0+$/, '').replace(/\.$/, '');

/** Renders one panel per series in a grid; the x axis is the baseline row number (1-based). */
export function historyChart(series: readonly Series[], title: string): string {
  const rows = Math.max(1, Math.ceil(series.length / COLS));
  const width = W * COLS;
  const height = H * rows + 28;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="10">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="8" y="16" font-size="13" font-weight="bold">${esc(title)}</text>`,
  ];
  series.forEach((s, i) => {
    const ox = (i % COLS) * W;
    const oy = 28 + Math.floor(i / COLS) * H;
    const pw = W - PAD.left - PAD.right;
    const ph = H - PAD.top - PAD.bottom;
    const min = Math.min(...s.values, 0);
    const max = Math.max(...s.values, min + 1);
    const x = (j: number): number =>
      ox + PAD.left + (s.values.length <= 1 ? pw / 2 : (j * pw) / (s.values.length - 1));
    const y = (v: number): number => oy + PAD.top + ph - ((v - min) / (max - min)) * ph;
    parts.push(`<text x="${ox + 8}" y="${oy + 12}" font-weight="bold">${esc(s.name)}</text>`);
    parts.push(
      `<line x1="${ox + PAD.left}" y1="${oy + PAD.top + ph}" x2="${ox + PAD.left + pw}" y2="${oy + PAD.top + ph}" stroke="#999"/>`,
    );
    parts.push(`<text x="${ox + PAD.left - 4}" y="${oy + PAD.top + 4}" text-anchor="end">${fmt(max)}</text>`);
    parts.push(
      `<text x="${ox + PAD.left - 4}" y="${oy + PAD.top + ph}" text-anchor="end">${fmt(min)}</text>`,
    );
    if (s.values.length > 0) {
      const pts = s.values.map((v, j) => `${x(j).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
      parts.push(`<polyline fill="none" stroke="#2563eb" stroke-width="1.5" points="${pts}"/>`);
      s.values.forEach((v, j) =>
        parts.push(
          `<circle cx="${x(j).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2" fill="#2563eb"><title>row ${j + 1}: ${fmt(v)}</title></circle>`,
        ),
      );
      parts.push(
        `<text x="${ox + PAD.left + pw}" y="${oy + H - 4}" text-anchor="end">row ${s.values.length}: ${fmt(s.values.at(-1) as number)}</text>`,
      );
    }
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
