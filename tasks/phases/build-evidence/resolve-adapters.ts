import { join } from 'node:path';
import type { DistillConfig, SourceConfig } from '../../../schemas/config.ts';
import type { Adapter } from '../../adapters/adapter.ts';
import { detectFormat } from '../../adapters/detect.ts';
import { ADAPTERS, AUTO, getAdapter } from '../../adapters/registry.ts';
import { sampleFile } from '../../adapters/format-sample.ts';
import { didYouMean } from '../../lib/did-you-mean.ts';
import { sourceLocation } from '../../lib/project.ts';
import { UserError } from '../../lib/result.ts';
import { safeText } from '../../lib/terminal-text.ts';
import { escapesRoot } from './source-names.ts';

/** The adapter a file is read with, and how it was chosen. */
export interface ResolvedAdapter {
  /** Null only for an `auto` file that has nothing to read (empty) or that build-evidence refuses whole. */
  adapter: Adapter | null;
  /** Set when the source says "auto": the detection's confidence and reason. */
  detected: { confidence: number; reason: string } | null;
}

/** The named adapter of a source, or an error listing the known names. */
export function namedAdapter(source: SourceConfig, root: string | null = null): Adapter {
  const a = getAdapter(source.adapter);
  if (!a) {
    const names = ADAPTERS.map((x) => x.name);
    const hint = didYouMean(source.adapter, [AUTO, ...names]);
    const where = root === null ? 'distill.config.json' : sourceLocation(root, source.stream, 'adapter');
    throw new UserError(
      'CONFIG_INVALID',
      `${where}: source ${source.stream}: unknown adapter "${source.adapter}";${hint || ` use "${AUTO}" or one of: ${names.join(', ')}`} (every adapter and its format: docs/sources.md; \`distill sniff <file>\` names the one a file needs)`,
    );
  }
  return a;
}

/**
 * Resolves every listed file's adapter before anything is built: a named adapter as is; "auto" by
 * sniffing the file's first rows. A file no adapter recognises stops the build with the closest
 * candidates named (it would otherwise become a pile of quarantined lines).
 */
export async function resolveAdapters(
  root: string,
  listed: ReadonlyArray<{ source: SourceConfig; files: string[] }>,
  config: Pick<DistillConfig, 'limits'>,
): Promise<Map<string, ResolvedAdapter>> {
  const out = new Map<string, ResolvedAdapter>();
  for (const { source, files } of listed) {
    if (source.adapter !== AUTO) {
      const adapter = namedAdapter(source, root);
      for (const f of files) out.set(f, { adapter, detected: null });
      continue;
    }
    for (const f of files) {
      const abs = join(root, f);
      // never read outside the root, even to sniff: build-evidence refuses such a file (PATH_ESCAPE)
      if (await escapesRoot(root, abs)) {
        out.set(f, { adapter: null, detected: null });
        continue;
      }
      const sample = await sampleFile(abs, {
        maxLineBytes: config.limits.max_line_bytes,
        maxDepth: config.limits.max_depth,
      });
      if (sample.kind === 'unreadable' || (sample.kind === 'empty' && sample.note === 'the file is empty')) {
        out.set(f, { adapter: null, detected: null }); // refused whole, or empty: nothing to detect
        continue;
      }
      const d = detectFormat(sample, ADAPTERS);
      if (!d.ok) {
        // the name and the detail (which may quote the file) are escaped: no raw terminal sequences
        const name = safeText(f);
        throw new UserError(
          'FORMAT_UNKNOWN',
          `source ${source.stream}: ${name}: no adapter recognises this file (adapter "${AUTO}"): ${safeText(d.detail)}. ` +
            `Set "adapter" for this source in distill.config.json (\`distill sniff ${name}\` shows the candidates), or convert the file to a supported format (docs/sources.md).`,
        );
      }
      out.set(f, {
        adapter: getAdapter(d.adapter) as Adapter,
        detected: { confidence: d.confidence, reason: d.reason },
      });
    }
  }
  return out;
}
