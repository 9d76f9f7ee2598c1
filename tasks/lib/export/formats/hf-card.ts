/**
 * The README.md dataset card of a Hugging Face dataset folder. Its YAML header's `configs` drive
 * `load_dataset`: one config per row type, each listing its split files. Only splits that hold
 * rows are listed (an empty split file is still written, so the folder layout never changes).
 */
export interface CardConfig {
  name: string;
  default?: boolean;
  /** Split name → path inside the dataset folder and its row count. */
  splits: { split: string; path: string; rows: number }[];
}

export interface Card {
  prettyName: string;
  /** The Hub's task categories; text-generation when not given. */
  taskCategories?: string[];
  tags: string[];
  configs: CardConfig[];
  /** Markdown body lines, after the header. */
  body: string[];
}

/** The Hub's size bucket for a row count. */
export function sizeCategory(rows: number): string {
  const buckets: [number, string][] = [
    [1e3, 'n<1K'],
    [1e4, '1K<n<10K'],
    [1e5, '10K<n<100K'],
    [1e6, '100K<n<1M'],
    [1e7, '1M<n<10M'],
    [1e8, '10M<n<100M'],
    [1e9, '100M<n<1B'],
  ];
  for (const [limit, label] of buckets) if (rows < limit) return label;
  return 'n>1T';
}

/** A YAML scalar: JSON strings are valid YAML double-quoted scalars. */
const q = (s: string): string => JSON.stringify(s);

/** Renders the dataset card (deterministic: no dates, counts come from the data). */
export function renderCard(card: Card): string {
  const total = card.configs.reduce((s, c) => s + c.splits.reduce((t, x) => t + x.rows, 0), 0);
  const lines = [
    '---',
    `pretty_name: ${q(card.prettyName)}`,
    'task_categories:',
    ...(card.taskCategories ?? ['text-generation']).map((t) => `- ${q(t)}`),
    'tags:',
    ...card.tags.map((t) => `- ${q(t)}`),
    'size_categories:',
    `- ${q(sizeCategory(total))}`,
    'configs:',
  ];
  const listed = card.configs.filter((c) => c.splits.some((s) => s.rows > 0));
  const configs = listed.length > 0 ? listed : card.configs.slice(0, 1);
  for (const c of configs) {
    lines.push(`- config_name: ${q(c.name)}`);
    if (c.default) lines.push('  default: true');
    lines.push('  data_files:');
    const splits = c.splits.filter((s) => s.rows > 0);
    for (const s of splits.length > 0 ? splits : c.splits.slice(0, 1))
      lines.push(`  - split: ${q(s.split)}`, `    path: ${q(s.path)}`);
  }
  lines.push('---', '', ...card.body, '');
  const table = [
    '| config | split | rows | file |',
    '| --- | --- | --- | --- |',
    ...card.configs.flatMap((c) =>
      c.splits.map((s) => `| ${c.name} | ${s.split} | ${s.rows} | \`${s.path}\` |`),
    ),
  ];
  return `${[...lines, ...table].join('\n')}\n`;
}
