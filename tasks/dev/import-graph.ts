/**
 * The module graph of the project's own code, read with the TypeScript parser: which files each
 * module loads at run time. Three kinds of edge, all relative specifiers:
 * - `static`: `import … from`, `export … from`, side-effect `import '…'` (not `import type`,
 *   which tsx erases; under `verbatimModuleSyntax` an import whose specifiers are all inline
 *   `type` still loads the module, so it counts);
 * - `dynamic`: `import('…')` with a literal specifier;
 * - `worker`: `new URL('./x.ts', import.meta.url)`, how a module names a worker thread's entry.
 * Used by `npm run wireit:inputs` (derives every phase's wireit `files`) and by the test that
 * checks those lists against the closure.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import ts from 'typescript';

export type EdgeKind = 'static' | 'dynamic' | 'worker';

export interface Edge {
  to: string;
  kind: EdgeKind;
}

/** Module path (root-relative, POSIX) → what it loads. */
export type ModuleGraph = ReadonlyMap<string, readonly Edge[]>;

/** The folders whose `.ts` files form the graph. */
export const CODE_DIRS = ['tasks', 'schemas'] as const;

function tsFiles(root: string, dir: string): string[] {
  const out: string[] = [];
  let entries;
  try {
    entries = readdirSync(join(root, dir), { withFileTypes: true });
  } catch {
    return out;
  }
  for (const ent of entries) {
    const rel = `${dir}/${ent.name}`;
    if (ent.isDirectory()) out.push(...tsFiles(root, rel));
    else if (ent.name.endsWith('.ts')) out.push(rel);
  }
  return out;
}

/** Edges of one module's source text (`file` is its root-relative POSIX path). */
export function moduleEdges(file: string, text: string): Edge[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const edges: Edge[] = [];
  const add = (spec: string, kind: EdgeKind): void => {
    if (!spec.startsWith('./') && !spec.startsWith('../')) return;
    edges.push({ to: posix.normalize(posix.join(posix.dirname(file), spec)), kind });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      if (!node.importClause?.isTypeOnly && ts.isStringLiteral(node.moduleSpecifier))
        add(node.moduleSpecifier.text, 'static');
    } else if (ts.isExportDeclaration(node)) {
      if (!node.isTypeOnly && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier))
        add(node.moduleSpecifier.text, 'static');
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0];
      if (arg && ts.isStringLiteralLike(arg)) add(arg.text, 'dynamic');
    } else if (
      ts.isNewExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'URL'
    ) {
      const [spec, base] = node.arguments ?? [];
      if (
        spec &&
        base &&
        ts.isStringLiteralLike(spec) &&
        spec.text.endsWith('.ts') &&
        base.getText(sf) === 'import.meta.url'
      )
        add(spec.text, 'worker');
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return edges;
}

/** Reads every module under `CODE_DIRS` of `root`. */
export function readModuleGraph(root: string): Map<string, Edge[]> {
  const graph = new Map<string, Edge[]>();
  for (const dir of CODE_DIRS) {
    for (const file of tsFiles(root, dir).sort())
      graph.set(file, moduleEdges(file, readFileSync(join(root, file), 'utf8')));
  }
  return graph;
}

/**
 * Every module reachable from `entries`, entries included, sorted. `follow` says which edge kinds
 * are followed; a target outside the graph (a missing file) is kept, so a broken specifier shows.
 */
export function closure(
  graph: ModuleGraph,
  entries: readonly string[],
  follow: ReadonlySet<EdgeKind>,
): string[] {
  const seen = new Set<string>();
  const stack = [...entries];
  while (stack.length > 0) {
    const f = stack.pop() as string;
    if (seen.has(f)) continue;
    seen.add(f);
    for (const e of graph.get(f) ?? []) if (follow.has(e.kind) && !seen.has(e.to)) stack.push(e.to);
  }
  return [...seen].sort();
}

export const ALL_EDGES: ReadonlySet<EdgeKind> = new Set(['static', 'dynamic', 'worker']);
export const STATIC_EDGES: ReadonlySet<EdgeKind> = new Set(['static']);

/**
 * Import circles (strongly connected components of more than one module, or a module importing
 * itself) over static edges: each as its sorted member list.
 */
export function importCycles(graph: ModuleGraph, follow: ReadonlySet<EdgeKind> = STATIC_EDGES): string[][] {
  // Tarjan's algorithm, iterative
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  const succ = (f: string): string[] =>
    (graph.get(f) ?? []).filter((e) => follow.has(e.kind) && graph.has(e.to)).map((e) => e.to);
  for (const start of [...graph.keys()].sort()) {
    if (idx.has(start)) continue;
    const work: { node: string; next: number }[] = [{ node: start, next: 0 }];
    idx.set(start, index);
    low.set(start, index++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const top = work[work.length - 1] as { node: string; next: number };
      const s = succ(top.node);
      if (top.next < s.length) {
        const w = s[top.next++] as string;
        if (!idx.has(w)) {
          idx.set(w, index);
          low.set(w, index++);
          stack.push(w);
          onStack.add(w);
          work.push({ node: w, next: 0 });
        } else if (onStack.has(w))
          low.set(top.node, Math.min(low.get(top.node) as number, idx.get(w) as number));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node) as number, low.get(top.node) as number));
      if (low.get(top.node) === idx.get(top.node)) {
        const comp: string[] = [];
        let w: string;
        do {
          w = stack.pop() as string;
          onStack.delete(w);
          comp.push(w);
        } while (w !== top.node);
        const selfLoop = succ(top.node).includes(top.node);
        if (comp.length > 1 || selfLoop) out.push(comp.sort());
      }
    }
  }
  return out.sort((a, b) => ((a[0] as string) < (b[0] as string) ? -1 : 1));
}

/** A path relative to `root` with forward slashes. */
export function rootRelative(root: string, abs: string): string {
  return relative(root, abs).split(sep).join('/');
}
