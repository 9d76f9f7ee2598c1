import type { FileEntry } from '../../schemas/stage-receipt.ts';
import { EVIDENCE_DIR, REBUILD as REBUILD_EVIDENCE } from '../phases/build-evidence/contract.ts';
import { SCORED_DIR, REBUILD as REBUILD_SCORED } from '../phases/score/contract.ts';
import {
  SCREENED_DIR,
  SCREENED_EVIDENCE,
  SCREENED_RUNS,
  REBUILD as REBUILD_SCREENED,
} from '../phases/screen/contract.ts';
import { dataFiles, readManifest } from './manifest.ts';

/**
 * The data files a phase reads from its upstream phases' published manifests (never from a
 * directory listing: a stray or half-written file is not an input), each list sorted by path.
 */

/** The evidence files listed by data/evidence/_manifest.json. */
export async function evidenceFiles(root: string): Promise<FileEntry[]> {
  return dataFiles(await readManifest(root, EVIDENCE_DIR, REBUILD_EVIDENCE));
}

/** The scored-run files listed by data/scored-runs/_manifest.json. */
export async function scoredRunFiles(root: string): Promise<FileEntry[]> {
  return dataFiles(await readManifest(root, SCORED_DIR, REBUILD_SCORED));
}

/**
 * The inputs of the exports: the screened runs and the screened document / judgment evidence
 * listed by data/screened/_manifest.json.
 */
export async function screenedFiles(root: string): Promise<{ runs: FileEntry[]; evidence: FileEntry[] }> {
  const files = dataFiles(await readManifest(root, SCREENED_DIR, REBUILD_SCREENED));
  return {
    runs: files.filter((f) => f.path.startsWith(SCREENED_RUNS)),
    evidence: files.filter((f) => f.path.startsWith(SCREENED_EVIDENCE)),
  };
}
