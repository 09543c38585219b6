/** The results as a Markdown table and an SVG bar chart of the ratios, both written to bench/results/. */
export interface Row {
  group: string;
  subject: string;
  concurrency: number | '';
  /** ops/s, or ms for one-off timings (`unit` says which); a factor (×) or a rate of deletes for some. */
  value: number;
  unit: 'ops/s' | 'ms' | '×' | 'deletes/s';
  /** Against the group's baseline: >1 is faster for ops/s; for ms rows, the slowdown factor. */
  ratio?: number;
  target?: string;
  met?: boolean;
}

const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2));

export function markdown(rows: readonly Row[], machine: string): string {
  const lines = [
    `Machine: ${machine}`,
    '',
    '| comparison | subject | concurrency | median | ratio | target | met |',
    '|---|---|---:|---:|---:|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.group} | ${r.subject} | ${r.concurrency} | ${fmt(r.value)} ${r.unit} | ${r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`} | ${r.target ?? ''} | ${r.met === undefined ? '' : r.met ? 'yes' : '**no**'} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export function svgChart(rows: readonly Row[]): string {
  const bars = rows.filter((r) => r.ratio !== undefined);
  const width = 900;
  const barHeight = 22;
  const left = 430;
  const scale = (width - left - 60) / Math.max(2.5, ...bars.map((r) => r.ratio as number));
  const height = bars.length * (barHeight + 6) + 50;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="18" font-size="14" font-weight="bold">lovely-memcached benchmark ratios (1.0 = baseline)</text>`,
    `<line x1="${left + scale}" y1="28" x2="${left + scale}" y2="${height - 10}" stroke="#888" stroke-dasharray="4 3"/>`,
  ];
  bars.forEach((r, i) => {
    const y = 34 + i * (barHeight + 6);
    const w = Math.max(1, (r.ratio as number) * scale);
    const colour = r.met === false ? '#d9534f' : '#4a90d9';
    const label = `${r.group}: ${r.subject}${r.concurrency ? ` (c=${r.concurrency})` : ''}`;
    parts.push(
      `<text x="${left - 6}" y="${y + 15}" text-anchor="end">${label.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</text>`,
      `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${colour}"/>`,
      `<text x="${left + w + 4}" y="${y + 15}">${(r.ratio as number).toFixed(2)}×</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
