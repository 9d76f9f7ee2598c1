/**
 * One rule per concept for the content parts every vendor puts in a message: OpenAI Chat
 * (`text`, `image_url`, `input_audio`, `file`, `refusal`), OpenAI Responses (`input_text`,
 * `output_text`, `input_image`, `input_file`, `summary_text`), Anthropic blocks (`text`, `image`,
 * `document`, `search_result`, `tool_use`, `tool_result`, `thinking`, `server_tool_use`,
 * `*_tool_result`), OpenTelemetry GenAI parts (`text`, `tool_call`, `tool_call_response`,
 * `reasoning`, `blob`, `file`, `uri`, `server_tool_call`, `server_tool_call_response`), the Vercel
 * AI SDK (`text`, `tool-call`, `tool-result`, `reasoning`, `image`, `file`) and Gemini parts
 * (`text`, `functionCall`, `functionResponse`, `inlineData`, `fileData`, `thought`).
 *
 * Every part becomes one `Piece`:
 * - text (text sources of documents and search results included) → `text`;
 * - thinking / reasoning → `reasoning` (never a training target); redacted or encrypted thinking is
 *   skipped (flag `redacted_thinking`);
 * - a client tool call / its result → `call` / `result`;
 * - media (images, audio, files, binary documents) → a typed placeholder text such as
 *   `[image: image/png]` (flag `media_placeholder`): the canonical shape holds text, and the run keeps
 *   its place in the conversation;
 * - server-side tool calls and their results (run by the provider, not by the client: web search,
 *   code execution, MCP) are not client tool calls and are skipped (flag `server_tool_calls_skipped`);
 *   the model's text around them is kept;
 * - a part of a type nobody documents becomes its text when it has one, else a placeholder naming
 *   its type (flag `unknown_parts`), so an unforeseen block never costs the run.
 */

export type Piece =
  | { kind: 'text'; text: string; media?: true }
  | { kind: 'reasoning'; text: string }
  | { kind: 'call'; id: string | null; name: string; args: string }
  | { kind: 'result'; id: string | null; name: string | null; content: string; error: boolean }
  | { kind: 'none' };

export interface PartRead {
  piece: Piece;
  flags: string[];
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const nonEmpty = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** Tool arguments as the JSON string OpenAI sends (objects are encoded, strings kept as logged). */
export function encodeArgs(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v ?? {});
}

/** A tool result's content as text: a string as is, text parts joined, anything else as JSON. */
export function resultText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) {
    const pieces = v.map((p) => readPart(p).piece);
    if (pieces.every((p) => p.kind === 'text'))
      return pieces.map((p) => (p as { text: string }).text).join('\n\n');
  }
  if (isObj(v) && (v.type === 'text' || v.type === 'json') && 'value' in v) return resultText(v.value);
  return JSON.stringify(v);
}

/** The media type a media part names, wherever the vendor puts it. */
function mediaTypeOf(p: Record<string, unknown>): string | null {
  const src = isObj(p.source) ? p.source : {};
  const inline = isObj(p.inlineData) ? p.inlineData : isObj(p.inline_data) ? p.inline_data : {};
  const file = isObj(p.fileData) ? p.fileData : isObj(p.file_data) ? p.file_data : {};
  for (const v of [
    src.media_type,
    p.media_type,
    p.mediaType,
    p.mime_type,
    p.mimeType,
    inline.mimeType,
    inline.mime_type,
    file.mimeType,
    file.mime_type,
  ])
    if (nonEmpty(v)) return v as string;
  const url = isObj(p.image_url) ? p.image_url.url : p.image_url;
  const data = typeof url === 'string' ? url : typeof src.url === 'string' ? src.url : null;
  const m = data ? /^data:([\w.+-]+\/[\w.+-]+)[;,]/.exec(data) : null;
  if (m) return m[1] as string;
  if (isObj(p.input_audio) && nonEmpty(p.input_audio.format)) return `audio/${String(p.input_audio.format)}`;
  return null;
}

function placeholder(kind: string, p: Record<string, unknown>): PartRead {
  const mt = mediaTypeOf(p);
  const title =
    nonEmpty(p.title) ?? nonEmpty(p.filename) ?? (isObj(p.file) ? nonEmpty(p.file.filename) : null);
  const text = `[${kind}${mt ? `: ${mt}` : ''}${title ? ` ${JSON.stringify(title)}` : ''}]`;
  return { piece: { kind: 'text', text, media: true }, flags: ['media_placeholder'] };
}

const MEDIA_KINDS: Record<string, string> = {
  image: 'image',
  image_url: 'image',
  input_image: 'image',
  audio: 'audio',
  input_audio: 'audio',
  file: 'file',
  input_file: 'file',
  blob: 'file',
  uri: 'file',
  container_upload: 'file',
};

/** Server-side tool blocks: run by the provider, recorded for display. */
function isServerTool(type: string): boolean {
  return (
    type === 'server_tool_use' ||
    type === 'server_tool_call' ||
    type === 'server_tool_call_response' ||
    type === 'mcp_tool_use' ||
    type === 'mcp_tool_result' ||
    (type.endsWith('_tool_result') && type !== 'tool_result')
  );
}

/** A text-source document or search result → its text (title first); null when it holds binary data. */
function documentText(p: Record<string, unknown>): string | null {
  const src = isObj(p.source) ? p.source : null;
  let body: string | null = null;
  if (src && src.type === 'text' && typeof src.data === 'string') body = src.data;
  else if (src && src.type === 'content') body = resultText(src.content);
  else if (p.type === 'search_result') body = resultText(p.content);
  if (body === null) return null;
  const title = nonEmpty(p.title);
  const where = p.type === 'search_result' ? nonEmpty(p.source) : null;
  return [title, where, body].filter((x): x is string => x !== null).join('\n\n');
}

/** One content part of any supported vendor → one piece (see the module comment). */
export function readPart(p: unknown): PartRead {
  if (typeof p === 'string') return { piece: { kind: 'text', text: p }, flags: [] };
  if (!isObj(p)) return { piece: { kind: 'text', text: JSON.stringify(p) }, flags: ['unknown_parts'] };
  const type = typeof p.type === 'string' ? p.type : null;
  // Gemini parts carry no type: the key names it
  if (type === null) {
    const fc = isObj(p.functionCall) ? p.functionCall : isObj(p.function_call) ? p.function_call : null;
    if (fc && typeof fc.name === 'string')
      return {
        piece: { kind: 'call', id: nonEmpty(fc.id), name: fc.name, args: encodeArgs(fc.args) },
        flags: [],
      };
    const fr = isObj(p.functionResponse)
      ? p.functionResponse
      : isObj(p.function_response)
        ? p.function_response
        : null;
    if (fr)
      return {
        piece: {
          kind: 'result',
          id: nonEmpty(fr.id),
          name: nonEmpty(fr.name),
          content: resultText(fr.response),
          error: false,
        },
        flags: [],
      };
    if ('inlineData' in p || 'inline_data' in p || 'fileData' in p || 'file_data' in p)
      return placeholder('file', p);
    if (typeof p.text === 'string')
      return p.thought === true
        ? { piece: { kind: 'reasoning', text: p.text }, flags: [] }
        : { piece: { kind: 'text', text: p.text }, flags: [] };
    if ('executableCode' in p || 'executable_code' in p || 'codeExecutionResult' in p)
      return { piece: { kind: 'none' }, flags: ['server_tool_calls_skipped'] };
    return { piece: { kind: 'text', text: JSON.stringify(p) }, flags: ['unknown_parts'] };
  }
  switch (type) {
    case 'text':
    case 'input_text':
    case 'output_text':
    case 'summary_text': {
      const t = str(p.text) ?? str(p.content);
      if (t !== null) return { piece: { kind: 'text', text: t }, flags: [] };
      break;
    }
    case 'refusal':
      return { piece: { kind: 'text', text: str(p.refusal) ?? str(p.text) ?? '' }, flags: ['refusal'] };
    case 'thinking':
    case 'reasoning':
    case 'reasoning_text': {
      const t = str(p.thinking) ?? str(p.text) ?? str(p.content);
      if (t !== null) return { piece: { kind: 'reasoning', text: t }, flags: [] };
      return { piece: { kind: 'none' }, flags: ['redacted_thinking'] };
    }
    case 'redacted_thinking':
    case 'redacted-reasoning':
      return { piece: { kind: 'none' }, flags: ['redacted_thinking'] };
    case 'tool_use':
    case 'tool_call':
    case 'tool-call':
    case 'function_call': {
      const name = nonEmpty(p.name) ?? nonEmpty(p.toolName);
      if (name !== null)
        return {
          piece: {
            kind: 'call',
            id: nonEmpty(p.call_id) ?? nonEmpty(p.toolCallId) ?? nonEmpty(p.id),
            name,
            args: encodeArgs(p.input ?? p.arguments ?? p.args),
          },
          flags: [],
        };
      break;
    }
    case 'tool_result':
    case 'tool_call_response':
    case 'tool-result':
    case 'function_call_output':
      return {
        piece: {
          kind: 'result',
          id: nonEmpty(p.tool_use_id) ?? nonEmpty(p.call_id) ?? nonEmpty(p.toolCallId) ?? nonEmpty(p.id),
          name: nonEmpty(p.name) ?? nonEmpty(p.toolName),
          content: resultText(p.content ?? p.response ?? p.result ?? p.output),
          error: p.is_error === true || p.isError === true,
        },
        flags: p.is_error === true || p.isError === true ? ['tool_error'] : [],
      };
    case 'document':
    case 'search_result': {
      const t = documentText(p);
      if (t !== null) return { piece: { kind: 'text', text: t }, flags: [] };
      return placeholder('document', p);
    }
    default:
      break;
  }
  if (MEDIA_KINDS[type] !== undefined)
    return placeholder(
      typeof p.modality === 'string' && p.modality !== '' ? p.modality : (MEDIA_KINDS[type] as string),
      p,
    );
  if (isServerTool(type)) return { piece: { kind: 'none' }, flags: ['server_tool_calls_skipped'] };
  const t = str(p.text) ?? str(p.content);
  if (t !== null) return { piece: { kind: 'text', text: t }, flags: ['unknown_parts'] };
  return { piece: { kind: 'text', text: `[${type}]` }, flags: ['unknown_parts'] };
}

/**
 * Text pieces joined with `sep` (OpenAI joins text parts with nothing between them); a media
 * placeholder always stands on its own paragraph so it never glues to the words around it.
 */
export function joinText(pieces: ReadonlyArray<{ text: string; media?: true }>, sep: string): string {
  let out = '';
  pieces.forEach((p, i) => {
    if (i > 0) out += p.media || pieces[i - 1]?.media ? (sep === '' ? '\n\n' : sep) : sep;
    out += p.text;
  });
  return out;
}
