import { z } from 'zod';

/** Version of the category vocabulary. */
export const SCHEMA_VERSION = 1;

/** The four run categories, in order from best to worst. Every run is in exactly one. */
export const CATEGORIES = ['accepted', 'partially_accepted', 'rejected', 'needs_human_review'] as const;
export const Category = z.enum(CATEGORIES).describe('Run category assigned by the deterministic scorer');
export type Category = z.infer<typeof Category>;
