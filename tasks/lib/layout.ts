/** Output folders of the phases, relative to the project root. Each phase owns exactly one. */
export const EVIDENCE_DIR = 'data/evidence';
export const SCORED_DIR = 'data/scored-runs';
export const EXPORT_DIRS = {
  rag: 'exports/rag',
  sft: 'exports/sft',
  sftPartial: 'exports/sft-partial',
  preference: 'exports/preference',
} as const;
