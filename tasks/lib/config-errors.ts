import { findNodeAtLocation, parse, parseTree, printParseErrorCode, type ParseError } from 'jsonc-parser';
import type { z } from 'zod';
import { didYouMean } from './did-you-mean.ts';

/**
 * Where in a JSON file a problem is, as `file:line:column` (1-based, like compilers print it, so
 * editors jump there), and what a person should read: JSON syntax errors named in words (a trailing
 * comma, a missing comma) and schema problems at the line of the field, with "did you mean" for a
 * misspelt key. JSON.parse says only "at position 2012"; jsonc-parser's scanner gives each error its
 * offset and kind, and its syntax tree the offset of any path.
 */

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++)
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  return { line, column: offset - lineStart + 1 };
}

/** A syntax error in words, with the trailing-comma case (JSON allows none) said plainly. */
function syntaxMessage(text: string, e: ParseError): string {
  const code = printParseErrorCode(e.error);
  // the token before the error is a comma and the error sits on a closing bracket: a trailing comma
  const before = text.slice(0, e.offset).trimEnd();
  if (before.endsWith(',') && /^[}\]]/.test(text.slice(e.offset)))
    return `trailing comma before "${text[e.offset]}" (JSON allows no comma after the last item; remove it)`;
  const words: Record<string, string> = {
    CommaExpected: 'a comma is missing between two items',
    ColonExpected: 'a colon is missing after a key',
    PropertyNameExpected: 'expected a key in double quotes',
    ValueExpected: 'expected a value',
    CloseBraceExpected: 'an object is not closed: "}" expected',
    CloseBracketExpected: 'an array is not closed: "]" expected',
    EndOfFileExpected: 'text after the end of the JSON value',
    InvalidSymbol: 'not JSON here (single quotes, a comment, or a bare word?)',
    InvalidCommentToken: 'comments are not JSON',
    UnexpectedEndOfComment: 'comments are not JSON',
    UnexpectedEndOfString: 'a string is not closed',
    UnexpectedEndOfNumber: 'a number is cut short',
    InvalidUnicode: 'an invalid \\u escape',
    InvalidEscapeCharacter: 'an invalid escape in a string',
    InvalidCharacter: 'a control character inside a string (escape it)',
  };
  return words[code] ?? code;
}

/** The first JSON syntax error of `text` as `file:line:column: what`, or null when it parses. */
export function jsonSyntaxError(file: string, text: string): string | null {
  const errors: ParseError[] = [];
  parse(text, errors, { allowTrailingComma: false, disallowComments: true, allowEmptyContent: false });
  const e = errors[0];
  if (!e) return null;
  const comma = text.slice(0, e.offset).trimEnd();
  // a trailing comma is reported where the bracket is; point at the comma, which is what to delete
  const at = comma.endsWith(',') && /^[}\]]/.test(text.slice(e.offset)) ? comma.length - 1 : e.offset;
  const { line, column } = lineColumn(text, at);
  return `${file}:${line}:${column}: ${syntaxMessage(text, e)}`;
}

/** `file:line:column` of the value at `path` (or of its nearest enclosing value that exists). */
export function locate(file: string, text: string, path: readonly (string | number)[]): string {
  const tree = parseTree(text);
  if (!tree) return file;
  for (let k = path.length; k >= 0; k--) {
    const node = findNodeAtLocation(tree, [...path.slice(0, k)]);
    if (node) {
      const { line, column } = lineColumn(text, node.offset);
      return `${file}:${line}:${column}`;
    }
  }
  return file;
}

/** `file:line:column` of a key inside the object at `path`. */
function locateKey(file: string, text: string, path: readonly (string | number)[], key: string): string {
  const tree = parseTree(text);
  const value = tree ? findNodeAtLocation(tree, [...path, key]) : undefined;
  const keyNode = value?.parent?.children?.[0];
  if (!keyNode) return locate(file, text, path);
  const { line, column } = lineColumn(text, keyNode.offset);
  return `${file}:${line}:${column}`;
}

/** The keys an object schema allows at `path` of `schema` (zod v4 internals walked), or []. */
export function keysAt(schema: z.ZodType, path: readonly (string | number)[]): string[] {
  type Def = { type?: string; innerType?: unknown; in?: unknown; element?: unknown; shape?: unknown };
  const def = (s: unknown): Def => ((s as { _zod?: { def?: Def } })._zod?.def ?? {}) as Def;
  const unwrap = (s: unknown): unknown => {
    let cur = s;
    for (let i = 0; i < 10; i++) {
      const d = def(cur);
      if (d.innerType) cur = d.innerType;
      else if (d.type === 'pipe' && d.in) cur = d.in;
      else break;
    }
    return cur;
  };
  let cur: unknown = unwrap(schema);
  for (const seg of path) {
    const d = def(cur);
    if (d.type === 'array' && typeof seg === 'number') cur = unwrap(d.element);
    else if (d.type === 'object' && typeof seg === 'string')
      cur = unwrap((d.shape as Record<string, unknown>)[seg]);
    else return [];
  }
  const d = def(cur);
  return d.type === 'object' ? Object.keys(d.shape as Record<string, unknown>) : [];
}

/** `Tool-Outcomes v2` → `tool_outcomes_v2`: the snake_case form of a name, or '' when nothing is left. */
export function snakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^[^a-z]+|_+$/g, '');
}

/** The value at a path of parsed JSON, or undefined. */
function valueAt(raw: unknown, path: readonly (string | number)[]): unknown {
  let cur = raw;
  for (const seg of path) cur = (cur as Record<string | number, unknown> | null)?.[seg];
  return cur;
}

/** Each schema issue as `file:line:column: path: message`, unknown keys with "did you mean". */
export function schemaIssueLines(
  file: string,
  text: string,
  schema: z.ZodType,
  issues: readonly z.core.$ZodIssue[],
  raw: unknown,
): string[] {
  const out: string[] = [];
  for (const i of issues) {
    const path = i.path.filter((p): p is string | number => typeof p !== 'symbol');
    const name = path.join('.') || '(root)';
    if (i.code === 'unrecognized_keys') {
      const known = keysAt(schema, path);
      for (const key of i.keys)
        out.push(
          `${locateKey(file, text, path, key)}: ${path.length ? `${name}: ` : ''}unknown key "${key}";${didYouMean(key, known) || ` allowed keys: ${known.join(', ')}`}`,
        );
      continue;
    }
    // a name that must be snake_case (stream names) gets its snake_case form as the suggestion
    const snake =
      i.code === 'invalid_format' &&
      /\^\[a-z\]\[a-z0-9_\]\*\$/.test((i as { pattern?: string }).pattern ?? '')
        ? snakeCase(String(valueAt(raw, path) ?? ''))
        : '';
    out.push(
      `${locate(file, text, path)}: ${name}: ${i.message}${snake ? `; did you mean "${snake}"?` : ''}`,
    );
  }
  return out;
}
