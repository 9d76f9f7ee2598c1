import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tiny OpenAI-compatible server for tests, on 127.0.0.1 with node:http. It stands in for the
 * model's HTTP contract only (POST /v1/chat/completions, GET /v1/models): it does not run any
 * model, it answers what each test tells it to.
 */

/** What the server answers one request with. */
export interface FakeReply {
  status?: number;
  /** An object is sent as JSON; a string is sent as is (e.g. broken JSON). */
  body: unknown;
  contentType?: string;
  /** Wait this long before answering (for timeouts). */
  delayMs?: number;
}

/** A request the server received. */
export interface FakeRequest {
  method: string;
  path: string;
  authorization: string | null;
  body: Record<string, unknown> | null;
}

/** A chat completion body with one choice. */
export function completion(
  content: string | null,
  opts: { model?: string; finish?: string; promptTokens?: number; completionTokens?: number } = {},
): Record<string, unknown> {
  return {
    id: 'chatcmpl-fake',
    object: 'chat.completion',
    created: 0,
    model: opts.model ?? 'fake-model',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: opts.finish ?? 'stop' }],
    usage: {
      prompt_tokens: opts.promptTokens ?? 100,
      completion_tokens: opts.completionTokens ?? 20,
      total_tokens: (opts.promptTokens ?? 100) + (opts.completionTokens ?? 20),
    },
  };
}

/** A running fake server. */
export interface FakeServer {
  /** Base URL ending in /v1. */
  baseUrl: string;
  requests: FakeRequest[];
  close(): Promise<void>;
}

/**
 * Starts the server. `chat` decides the reply to each chat completion request from its JSON body;
 * `models` is what GET /v1/models lists.
 */
export async function startFakeServer(
  chat: (body: Record<string, unknown>) => FakeReply,
  models: string[] = ['fake-model'],
): Promise<FakeServer> {
  const requests: FakeRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const send = (res: ServerResponse, r: FakeReply): void => {
    res.writeHead(r.status ?? 200, { 'content-type': r.contentType ?? 'application/json' });
    res.end(typeof r.body === 'string' ? r.body : JSON.stringify(r.body));
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, unknown> | null = null;
      try {
        body = text ? (JSON.parse(text) as Record<string, unknown>) : null;
      } catch {
        body = null;
      }
      const path = (req.url ?? '').split('?')[0] as string;
      requests.push({
        method: req.method ?? '',
        path,
        authorization: req.headers.authorization ?? null,
        body,
      });
      if (req.method === 'GET' && path === '/v1/models')
        return send(res, {
          body: {
            object: 'list',
            data: models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'test' })),
          },
        });
      if (req.method === 'POST' && path === '/v1/chat/completions' && body) {
        const r = chat(body);
        if (r.delayMs) {
          const t = setTimeout(() => {
            timers.delete(t);
            if (!res.writableEnded && !res.destroyed) send(res, r);
          }, r.delayMs);
          timers.add(t);
          return;
        }
        return send(res, r);
      }
      send(res, { status: 404, body: { error: { message: `no route ${req.method} ${path}` } } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A base URL on 127.0.0.1 where nothing listens (a port that was just bound and released). */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/v1`;
}
