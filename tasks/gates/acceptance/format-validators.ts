/**
 * Independent validators for the export formats, written from FORMATS.md (not from the exporter
 * code). Each returns a list of problems; an empty list means the row is valid. Used by the
 * acceptance gate (invariant A20) and by test/exports/formats.test.ts.
 */
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const ROLES = new Set(['system', 'user', 'assistant', 'tool']);

function extraKeys(o: Obj, allowed: string[], where: string, errs: string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) errs.push(`${where}: unexpected key "${k}"`);
}

/**
 * A conversation: known roles, system only first, tool results only right after the assistant turn
 * (or tool results) that made the call, tool-call ids answered; `argType` says how arguments must
 * be encoded: OpenAI 'string' (JSON text of an object) or TRL 'object'.
 */
function conversation(
  msgs: unknown,
  argType: 'string' | 'object',
  where: string,
  errs: string[],
  opts: { endOnAssistant: boolean },
): void {
  if (!Array.isArray(msgs) || msgs.length === 0) {
    errs.push(`${where}: expected a non-empty array of messages`);
    return;
  }
  const open = new Set<string>();
  let sawUser = false;
  msgs.forEach((m, i) => {
    const w = `${where}[${i}]`;
    if (!isObj(m) || typeof m['role'] !== 'string' || !ROLES.has(m['role']))
      return void errs.push(`${w}: not a message with a known role`);
    const role = m['role'];
    const before = i > 0 && isObj(msgs[i - 1]) ? (msgs[i - 1] as Obj)['role'] : null;
    // chat templates that require alternation (Mistral, Gemma) reject two user or two assistant turns in a row
    if ((role === 'user' || role === 'assistant') && before === role)
      errs.push(`${w}: two ${role} turns in a row`);
    if (role === 'system' && i !== 0) errs.push(`${w}: system message after the first position`);
    if (role === 'user') sawUser = true;
    if (role === 'system' || role === 'user') {
      extraKeys(m, ['role', 'content'], w, errs);
      if (typeof m['content'] !== 'string') errs.push(`${w}: content must be a string`);
    }
    if (role === 'assistant') {
      if (!sawUser) errs.push(`${w}: assistant turn before any user turn`);
      const calls = m['tool_calls'];
      if ('content' in m && m['content'] !== null && typeof m['content'] !== 'string')
        errs.push(`${w}: content must be a string`);
      if (!('content' in m) && calls === undefined)
        errs.push(`${w}: assistant turn with neither content nor tool_calls`);
      if (calls !== undefined) {
        if (!Array.isArray(calls) || calls.length === 0)
          errs.push(`${w}: tool_calls must be a non-empty array`);
        else
          calls.forEach((c, j) => {
            const cw = `${w}.tool_calls[${j}]`;
            if (
              !isObj(c) ||
              typeof c['id'] !== 'string' ||
              c['type'] !== 'function' ||
              !isObj(c['function']) ||
              typeof c['function']['name'] !== 'string'
            )
              return void errs.push(`${cw}: expected {id, type:"function", function:{name, arguments}}`);
            open.add(c['id']);
            const args = c['function']['arguments'];
            if (argType === 'string') {
              if (typeof args !== 'string') errs.push(`${cw}: arguments must be a JSON-encoded string`);
              else {
                try {
                  if (!isObj(JSON.parse(args))) errs.push(`${cw}: arguments must encode an object`);
                } catch {
                  errs.push(`${cw}: arguments is not valid JSON`);
                }
              }
            } else if (!isObj(args)) errs.push(`${cw}: arguments must be a JSON object, got ${typeof args}`);
          });
      }
    }
    if (role === 'tool') {
      const prev = msgs[i - 1] as Obj | undefined;
      const prevOk =
        prev &&
        (prev['role'] === 'tool' || (prev['role'] === 'assistant' && Array.isArray(prev['tool_calls'])));
      if (!prevOk) errs.push(`${w}: tool result not right after a tool-calling assistant turn`);
      if (typeof m['tool_call_id'] !== 'string' || !open.has(m['tool_call_id']))
        errs.push(`${w}: tool_call_id answers no earlier call`);
      if (typeof m['content'] !== 'string') errs.push(`${w}: content must be a string`);
    }
  });
  if (!sawUser) errs.push(`${where}: no user message`);
  const last = msgs[msgs.length - 1] as Obj;
  if (opts.endOnAssistant && last['role'] !== 'assistant')
    errs.push(`${where}: must end on an assistant turn, ends on ${String(last['role'])}`);
  if (!opts.endOnAssistant && last['role'] === 'assistant')
    errs.push(`${where}: a prompt must not end on an assistant turn`);
}

function tools(v: unknown, where: string, errs: string[]): void {
  if (!Array.isArray(v)) return void errs.push(`${where}: tools must be an array`);
  v.forEach((t, i) => {
    if (
      !isObj(t) ||
      t['type'] !== 'function' ||
      !isObj(t['function']) ||
      typeof t['function']['name'] !== 'string'
    )
      errs.push(`${where}[${i}]: expected {type:"function", function:{name, ...}}`);
  });
}

/**
 * A continuation (TRL chosen / rejected / completion): a non-empty list starting with an assistant
 * turn that, after the prompt, forms a valid conversation ending on an assistant turn.
 */
function continuation(prompt: unknown, side: unknown, where: string, errs: string[]): void {
  if (!Array.isArray(side) || side.length === 0)
    return void errs.push(`${where}: must be a non-empty array of messages`);
  if (!isObj(side[0]) || side[0]['role'] !== 'assistant') errs.push(`${where}[0]: must be an assistant turn`);
  if (Array.isArray(prompt))
    conversation([...prompt, ...side], 'object', `prompt+${where}`, errs, { endOnAssistant: true });
}

/** Every tool call of the messages names a tool of `tools` (a model must never learn to call an undeclared function). */
function callsDeclared(msgs: unknown[], tools: unknown, errs: string[]): void {
  const names = new Set(
    Array.isArray(tools)
      ? tools.map((t) => (isObj(t) && isObj(t['function']) ? t['function']['name'] : null))
      : [],
  );
  for (const m of msgs) {
    if (!isObj(m) || !Array.isArray(m['tool_calls'])) continue;
    for (const c of m['tool_calls'])
      if (isObj(c) && isObj(c['function']) && !names.has(c['function']['name']))
        errs.push(`tool call ${JSON.stringify(c['function']['name'])} names no declared tool`);
  }
}

/** One assistant message in an ARRAY (OpenAI DPO outputs). */
function oneAssistantArray(v: unknown, where: string, errs: string[]): void {
  if (!Array.isArray(v) || v.length !== 1)
    return void errs.push(`${where}: must be an array of exactly one message`);
  const m = v[0];
  if (!isObj(m) || m['role'] !== 'assistant' || typeof m['content'] !== 'string' || m['content'] === '')
    errs.push(`${where}[0]: must be an assistant message with text`);
  else extraKeys(m, ['role', 'content'], `${where}[0]`, errs);
}

/** OpenAI fine-tuning SFT row: {messages, tools?, parallel_tool_calls?}, arguments as strings. */
export function openaiSft(row: unknown): string[] {
  const errs: string[] = [];
  if (!isObj(row)) return ['row is not an object'];
  extraKeys(row, ['messages', 'tools', 'parallel_tool_calls'], 'row', errs);
  conversation(row['messages'], 'string', 'messages', errs, { endOnAssistant: true });
  if ('tools' in row) tools(row['tools'], 'tools', errs);
  if (Array.isArray(row['messages'])) callsDeclared(row['messages'], row['tools'], errs);
  return errs;
}

/** OpenAI DPO row: input.messages, preferred_output / non_preferred_output arrays of one assistant message. */
export function openaiDpo(row: unknown): string[] {
  const errs: string[] = [];
  if (!isObj(row)) return ['row is not an object'];
  extraKeys(row, ['input', 'preferred_output', 'non_preferred_output'], 'row', errs);
  const input = row['input'];
  if (!isObj(input)) errs.push('input must be an object');
  else {
    extraKeys(input, ['messages', 'tools', 'parallel_tool_calls'], 'input', errs);
    conversation(input['messages'], 'string', 'input.messages', errs, { endOnAssistant: false });
    if ('tools' in input) tools(input['tools'], 'input.tools', errs);
  }
  oneAssistantArray(row['preferred_output'], 'preferred_output', errs);
  oneAssistantArray(row['non_preferred_output'], 'non_preferred_output', errs);
  return errs;
}

/** TRL conversational language-modeling row: messages (+ tools column), arguments as objects. */
export function trlSft(row: unknown, expectTools: boolean, extra: string[] = []): string[] {
  const errs: string[] = [];
  if (!isObj(row)) return ['row is not an object'];
  extraKeys(row, ['id', 'messages', 'tools', ...extra], 'row', errs);
  if (typeof row['id'] !== 'string') errs.push('row: id must be a string');
  conversation(row['messages'], 'object', 'messages', errs, { endOnAssistant: true });
  if (Array.isArray(row['messages'])) callsDeclared(row['messages'], row['tools'], errs);
  if (expectTools !== 'tools' in row)
    errs.push(expectTools ? 'missing the tools column' : 'unexpected tools column');
  if ('tools' in row) tools(row['tools'], 'tools', errs);
  return errs;
}

/** TRL conversational preference row with explicit prompt: chosen / rejected continue the prompt. */
export function trlPreference(row: unknown, expectTools: boolean, extra: string[] = []): string[] {
  const errs: string[] = [];
  if (!isObj(row)) return ['row is not an object'];
  extraKeys(row, ['id', 'prompt', 'chosen', 'rejected', 'tools', ...extra], 'row', errs);
  if (typeof row['id'] !== 'string') errs.push('row: id must be a string');
  conversation(row['prompt'], 'object', 'prompt', errs, { endOnAssistant: false });
  continuation(row['prompt'], row['chosen'], 'chosen', errs);
  continuation(row['prompt'], row['rejected'], 'rejected', errs);
  for (const k of ['prompt', 'chosen', 'rejected'])
    if (Array.isArray(row[k])) callsDeclared(row[k] as unknown[], row['tools'], errs);
  if (expectTools !== 'tools' in row)
    errs.push(expectTools ? 'missing the tools column' : 'unexpected tools column');
  return errs;
}

/** TRL conversational unpaired preference (KTO) row: prompt, completion list, boolean label. */
export function trlKto(row: unknown, expectTools: boolean, extra: string[] = []): string[] {
  const errs: string[] = [];
  if (!isObj(row)) return ['row is not an object'];
  extraKeys(row, ['id', 'prompt', 'completion', 'label', 'tools', ...extra], 'row', errs);
  if (typeof row['id'] !== 'string') errs.push('row: id must be a string');
  conversation(row['prompt'], 'object', 'prompt', errs, { endOnAssistant: false });
  continuation(row['prompt'], row['completion'], 'completion', errs);
  if (typeof row['label'] !== 'boolean') errs.push('label must be a boolean');
  if (expectTools !== 'tools' in row)
    errs.push(expectTools ? 'missing the tools column' : 'unexpected tools column');
  return errs;
}

/** The `configs` of a dataset card's YAML header: config name → split → path (a small reader for our own header layout). */
export function cardConfigs(readme: string): Record<string, Record<string, string>> {
  const m = /^---\n([\s\S]*?)\n---\n/.exec(readme);
  if (!m) throw new Error('README.md has no YAML header');
  const out: Record<string, Record<string, string>> = {};
  let config: string | null = null;
  let split: string | null = null;
  let inConfigs = false;
  for (const line of (m[1] as string).split('\n')) {
    if (/^[A-Za-z_]+:/.test(line)) inConfigs = line === 'configs:';
    if (!inConfigs) continue;
    let g: RegExpExecArray | null;
    if ((g = /^- config_name: (.+)$/.exec(line))) out[(config = JSON.parse(g[1] as string) as string)] = {};
    else if ((g = /^ {2}- split: (.+)$/.exec(line))) split = JSON.parse(g[1] as string) as string;
    else if ((g = /^ {4}path: (.+)$/.exec(line)) && config && split)
      (out[config] as Record<string, string>)[split] = JSON.parse(g[1] as string) as string;
  }
  return out;
}
