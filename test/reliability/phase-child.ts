/**
 * A lean child process for the crash loop: runs one phase through its real shell (`runPhase`:
 * lock, staged publish, receipts) and core, like `distill <phase> --root DIR`, but without loading
 * every other command the CLI imports, so each of the ~24 killed children starts faster.
 * Usage: node --import tsx phase-child.ts <build-evidence|score|export-sft> <root>
 */
import { runPhase } from '../../tasks/lib/phase.ts';
import { loadConfig } from '../../tasks/lib/project.ts';

const [phase, root] = process.argv.slice(2) as [string, string];
const cores: Record<
  string,
  () => Promise<(root: string) => Promise<import('../../tasks/lib/phase.ts').PhaseResult>>
> = {
  'build-evidence': async () => {
    const { buildEvidence } = await import('../../tasks/phases/build-evidence/run.ts');
    return (r) => buildEvidence(r, loadConfig(r));
  },
  score: async () => {
    const { score } = await import('../../tasks/phases/score/run.ts');
    return (r) => score(r, loadConfig(r));
  },
  'export-sft': async () => {
    const { exportSft } = await import('../../tasks/phases/export-sft/run.ts');
    return (r) => exportSft(r, loadConfig(r), { includePartial: false });
  },
};
const core = await (cores[phase] as (typeof cores)[string])();
process.exitCode = await runPhase(phase, root, () => core(root));
