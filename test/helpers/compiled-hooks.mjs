// Module hooks of `npm test` (registered by test/helpers/compiled.mjs): every .ts module of the
// checkout loads as its precompiled JavaScript (bin/precompile.js), so no test process runs tsx.
// Plain JavaScript: it runs before anything is compiled.

/** The checkout's URL and the build's (both ending in '/'). */
let src = '';
let out = '';

export function initialize(data) {
  src = data.src;
  out = data.out;
}

export async function resolve(specifier, context, next) {
  let r;
  try {
    r = await next(specifier, context);
  } catch (e) {
    // a compiled file importing a file that is not compiled (bin/precompile.js, a .mjs or .json next
    // to the sources): resolve it from the source file's place
    const parent = context.parentURL;
    if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !parent?.startsWith(out)) throw e;
    r = await next(specifier, { ...context, parentURL: `${src}${parent.slice(out.length).replace(/\.js$/, '.ts')}` });
  }
  if (r.url.startsWith(src) && r.url.endsWith('.ts') && !r.url.startsWith(`${src}node_modules/`))
    return { ...r, url: `${out}${r.url.slice(src.length, -'.ts'.length)}.js`, format: 'module' };
  return r;
}

export async function load(url, context, next) {
  // a JSON module imported without `with { type: 'json' }` (@actions/workflow-parser does): tsx
  // accepts it, plain node does not
  if (url.endsWith('.json') && context.importAttributes?.type === undefined)
    return next(url, { ...context, importAttributes: { ...context.importAttributes, type: 'json' } });
  return next(url, context);
}
