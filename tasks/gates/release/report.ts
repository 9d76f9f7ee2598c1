import type { ReleaseManifest } from '../../../schemas/release-manifest.ts';
import { n } from '../../lib/log.ts';
import { BASELINE_FILE, BASELINE_HEAD } from '../audit/baseline.ts';

/** Where release-freeze writes its report, relative to the project root (regenerated on every run, git-ignored). */
export const RELEASE_REPORT = 'reports/distillation/release-freeze.md';
/** Where release-freeze writes the machine-readable manifest (schemas/release-manifest.ts). */
export const RELEASE_MANIFEST = 'reports/distillation/release-manifest.json';

/** The release tag of a package version. */
export function releaseTag(version: string): string {
  return `distillation-v${version}`;
}

/** The exact command that tags the release (printed, never run by release-freeze). */
export function tagCommand(tag: string, head: string, exportsSha256: string): string {
  return `git tag -a ${tag} -m "${tag}: 6/6 release gates passed; exports sha256 ${exportsSha256}" ${head}`;
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const ICON = { pass: '✔', fail: '✖', skipped: '–' } as const;

/** The verdict line, e.g. `release-ready: 6/6 gates pass`. */
export function verdict(m: ReleaseManifest): string {
  const passed = m.gates.filter((g) => g.status === 'pass').length;
  if (m.ready) return `release-ready: ${passed}/6 gates pass`;
  const bad = m.gates
    .filter((g) => g.status !== 'pass')
    .map((g) => `${g.id}${g.status === 'skipped' ? ' (skipped)' : ''}`);
  return `NOT release-ready: ${passed}/6 gates pass (not passing: ${bad.join(', ')})`;
}

/** The console report: one line per gate, its problems, the verdict and the tag command. */
export function formatFreeze(m: ReleaseManifest): string {
  const width = Math.max(...m.gates.map((g) => g.id.length));
  const lines = [
    `release-freeze ${m.tag} · ${m.git_branch ?? 'no branch'} @ ${m.git_head?.slice(0, 12) ?? 'no commit'}`,
  ];
  for (const g of m.gates) {
    lines.push(
      `${ICON[g.status]} ${g.n}. ${g.id.padEnd(width)}  ${g.status === 'pass' ? g.detail : g.status === 'skipped' ? g.detail : g.name}`,
    );
    if (g.status === 'fail') {
      for (const p of g.problems.slice(0, 5)) lines.push(`      ${p}`);
      if (g.problems.length > 5)
        lines.push(`      … and ${n(g.problems.length - 5)} more (${RELEASE_MANIFEST})`);
    }
  }
  lines.push(verdict(m));
  if (m.tag_command)
    lines.push('tag it (release-freeze never does):', `  ${m.tag_command}`, `  git push origin ${m.tag}`);
  else
    lines.push(
      'fix what is not passing and rerun `npm run release-freeze`; the tag command is printed once every gate passes',
    );
  if (m.latest_baseline_row)
    lines.push(
      `then commit the audit baseline (row ${m.latest_baseline_row.seq} is this freeze's audit; the baseline is tracked):`,
      `  git add ${BASELINE_FILE} ${BASELINE_HEAD} && git commit -m "audit baseline: ${m.tag}"`,
    );
  lines.push('written: reports/distillation/release-freeze.md, reports/distillation/release-manifest.json');
  return lines.join('\n');
}

/** The Markdown report of a freeze. */
export function renderFreeze(m: ReleaseManifest): string {
  const c = m.dataset_counts;
  const row = m.latest_baseline_row;
  const entry = (row?.entry ?? null) as {
    audited_at?: string;
    git_head?: string;
    checks_passed?: number;
    checks_total?: number;
    export_sha256?: string;
    metrics?: Record<string, number>;
  } | null;
  const out = [
    `# Release freeze: ${m.tag}`,
    '',
    `**${verdict(m)}**`,
    '',
    'Written by `npm run release-freeze` on every run (git-ignored; attach `release-manifest.json` to the release). Operator guide: [docs/operator-handoff.md](../../docs/operator-handoff.md).',
    '',
    '| | |',
    '| --- | --- |',
    `| version | ${m.version} |`,
    `| git head | \`${m.git_head ?? 'none'}\` |`,
    `| branch | ${m.git_branch ?? 'none'} |`,
    `| released at | ${m.released_at} |`,
    `| exports sha256 | \`${m.exports.sha256}\` (${n(m.exports.files)} files, ${n(m.exports.bytes)} bytes); reproduce with \`find exports -type f \\| LC_ALL=C sort \\| xargs sha256sum \\| sha256sum\` |`,
    '',
    '## Gates',
    '',
    '| # | gate | status | detail |',
    '| --- | --- | --- | --- |',
    ...m.gates.map(
      (g) =>
        `| ${g.n} | \`${g.id}\` ${cell(g.name)} | ${ICON[g.status]} ${g.status} | ${cell(g.status === 'fail' ? g.problems.join('; ') : g.detail)} |`,
    ),
    '',
    '## Dataset counts at freeze',
    '',
    '| dataset | rows |',
    '| --- | ---: |',
    `| RAG chunks (exports/rag) | ${n(c.rag)} |`,
    `| SFT (exports/sft) | ${n(c.sft)} |`,
    `| SFT incl. partial (exports/sft-partial) | ${n(c.sft_partial)} |`,
    `| preference pairs (exports/preference) | ${n(c.preference)} |`,
    `| KTO rows (exports/preference) | ${n(c.kto)} |`,
    `| evidence records (data/evidence) | ${n(c.evidence)} |`,
    `| scored runs (data/scored-runs) | ${n(c.scored)} |`,
    `| screened units (data/screened) | ${n(c.screened)} |`,
    `| quarantined rows (all phases) | ${n(c.quarantined)} |`,
    '',
    '## Phase → commit',
    '',
    "The last commit that touched each phase's sources (`git log -1 -- <sources>`), and the `code_version` of its latest receipt.",
    '',
    '| phase | commit | subject | latest receipt built at | sources |',
    '| --- | --- | --- | --- | --- |',
    ...m.phase_commits.map(
      (p) =>
        `| ${p.phase} | ${p.commit ? `\`${p.commit.slice(0, 12)}\`` : '**none**'} | ${cell(p.subject ?? '')} | ${p.receipt_code_version ? `\`${p.receipt_code_version.slice(0, 12)}\`` : '–'} | ${cell(p.sources.join(', '))} |`,
    ),
    '',
    '## Latest audit baseline row',
    '',
    row && entry
      ? `Row ${row.seq} of \`data/_kb/audit_baselines.jsonl\`: audited ${entry.audited_at ?? '?'} at \`${(entry.git_head ?? '?').slice(0, 12)}\`, ${entry.checks_passed ?? '?'}/${entry.checks_total ?? '?'} required checks, exports sha256 \`${entry.export_sha256 ?? '?'}\`.`
      : 'No baseline row (audit-full did not run).',
    '',
  ];
  if (entry?.metrics) {
    out.push(
      '| metric | value |',
      '| --- | ---: |',
      ...Object.entries(entry.metrics).map(([k, v]) => `| \`${k}\` | ${n(v)} |`),
      '',
    );
  }
  out.push('## Tag', '');
  if (m.tag_command)
    out.push(
      'release-freeze never creates the tag. To release this commit:',
      '',
      '```sh',
      m.tag_command,
      `git push origin ${m.tag}`,
      '```',
      '',
    );
  else out.push('Not release-ready: the tag command is given once every gate passes.', '');
  return `${out.join('\n')}\n`;
}
