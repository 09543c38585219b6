/**
 * A small realistic use: an HTTP server rendering pages through `getOrSet` (one render per page, stale pages
 * served within grace while one request re-renders), each tied by dependencies to the records it shows, and
 * invalidating them when a record changes.
 *
 *   GET /users/:id   one user's page        (depends on user:<id>)
 *   GET /team        every user in a list   (depends on each user:<id> shown)
 *   PUT /users/:id   change a user's name   (invalidates every page showing that user)
 *
 * Errors are answered as a server should: a failing request gets a 500 (and is logged), never an unhandled
 * rejection that ends the process. A page too large to cache (over memcached's 1 MB item limit) is still served:
 * `getOrSet` hands its callers what the factory computed, stores nothing, and says so once (a process warning).
 *
 * Run it: `pnpm --filter @lovely-memcached/examples http` (MEMCACHED_SERVERS=host:port for real memcached).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { MemcachedClient } from '@lovely-memcached/core';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { memoryTransport } from '@lovely-memcached/transport-memory';

export interface User {
  id: string;
  name: string;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Request bodies beyond this are refused (413): a user's name has no business being larger. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

class TooLarge extends Error {}

async function readBody(request: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of request) {
    body += chunk;
    if (body.length > MAX_BODY_BYTES) throw new TooLarge(`a body over ${MAX_BODY_BYTES} bytes`);
  }
  return body;
}

/** What a failed request leaves: the error logged, a 500 (or 413) if nothing was sent yet, else a cut reply. */
function fail(response: ServerResponse, error: unknown, onError: (error: unknown) => void): void {
  if (!(error instanceof TooLarge)) onError(error);
  if (response.headersSent) {
    response.destroy();
    return;
  }
  response.statusCode = error instanceof TooLarge ? 413 : 500;
  response.setHeader('content-type', 'text/plain; charset=utf-8');
  response.setHeader('connection', 'close');
  response.end(error instanceof TooLarge ? 'request body too large' : 'internal error');
}

/**
 * The server; `users` is the "database", `cache` any MemcachedClient. Renders count how often pages were built.
 * `onError` is told of every request that failed (the default logs it).
 */
export function createPagesServer(
  cache: MemcachedClient,
  users: Map<string, User>,
  onError: (error: unknown) => void = (error) => console.error('request failed:', error),
): Server & { renders: number } {
  // An async handler's rejection is nobody's: caught here, every failure becomes a reply.
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => fail(response, error, onError));
  }) as Server & { renders: number };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const userMatch = /^\/users\/([\w-]+)$/.exec(url.pathname);

    // Read-through: one render per page across every process sharing the servers; within `grace`, a page past
    // its lifetime is served at once while one request re-renders it. A page whose user changed is never
    // served again (invalidated entries are not stale values), whatever `grace` says.
    const page = async (key: string, dependencies: string[], render: () => string) => {
      let rendered = false;
      const html = await cache.getOrSet(
        key,
        () => {
          rendered = true;
          server.renders++;
          return render();
        },
        { ns: 'pages', lifetime: 300, grace: 3600, dependencies },
      );
      response.setHeader('x-cache', rendered ? 'miss' : 'hit');
      response.setHeader('content-type', 'text/html; charset=utf-8');
      response.end(html);
    };

    if (request.method === 'GET' && url.pathname === '/team') {
      const all = [...users.values()];
      return page(
        '/team',
        all.map((u) => `user:${u.id}`),
        () => `<ul>${all.map((u) => `<li>${escapeHtml(u.name)}</li>`).join('')}</ul>`,
      );
    }
    if (userMatch?.[1] !== undefined) {
      const id = userMatch[1];
      const user = users.get(id);
      if (user === undefined) {
        response.statusCode = 404;
        response.end('no such user');
        return;
      }
      if (request.method === 'PUT') {
        user.name = await readBody(request);
        // Every page that shows this user goes, on every server, for every process sharing them.
        await cache.invalidate(undefined, { ns: 'pages', dependencies: [`user:${id}`] });
        response.statusCode = 204;
        response.end();
        return;
      }
      return page(`/users/${id}`, [`user:${id}`], () => `<h1>${escapeHtml(user.name)}</h1>`);
    }
    response.statusCode = 404;
    response.end('not found');
  };
  server.renders = 0;
  return server;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const servers = process.env.MEMCACHED_SERVERS?.split(',').filter(Boolean);
  const cache = new MemcachedClient(
    servers ? { transport: memjsTransport(), servers } : { transport: memoryTransport() },
  );
  const users = new Map<string, User>([
    ['42', { id: '42', name: 'Ada' }],
    ['7', { id: '7', name: 'Alan' }],
  ]);
  const server = createPagesServer(cache, users);
  server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 3000;
    console.log(`pages at http://127.0.0.1:${port}/team and /users/42 — change one with:`);
    console.log(`  curl -X PUT --data 'Ada Lovelace' http://127.0.0.1:${port}/users/42`);
  });
}
