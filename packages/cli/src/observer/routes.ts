// The observer's routes on an operations endpoint: the page and its assets, a stream of
// server-sent events with what changed (each section sent again only when it differs from what
// this client last got), a process's detail, a kill and a topology switch.

import { readFileSync } from 'node:fs';
import type { Reply, Route } from '../http/route.ts';
import { json } from '../http/route.ts';
import type { InspectClient } from './client.ts';
import { ClusterView } from './snapshot.ts';

/** Options of {@link observerRoutes}. */
export interface ObserverOptions {
  /** How often each page's view is refreshed (default 1,000 ms). */
  intervalMs?: number;
  /** Ecosystems are asked every this many refreshes (default 5). */
  ecosystemsEvery?: number;
  /** Wall-clock milliseconds (default `Date.now`). */
  now?: () => number;
}

const ASSETS: Readonly<Record<string, string>> = {
  '/observer': 'index.html',
  '/observer/app.js': 'app.js',
  '/observer/style.css': 'style.css',
};

const TYPES: Readonly<Record<string, string>> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

/** A file of the page, read once (shipped in the package's `observer/` folder). */
function asset(path: string, file: string): Route {
  let body: Buffer | null = null;
  return {
    path,
    get: (): Reply => {
      body ??= readFileSync(new URL(`../../observer/${file}`, import.meta.url));
      return { status: 200, type: TYPES[file.split('.').pop() as string] as string, body };
    },
  };
}

/** Where a printed pid lives (`<node.id.incarnation>`). */
function nodeOf(pid: unknown): string | undefined {
  return typeof pid === 'string' ? /^<(.+)\.\d+\.\d+>$/.exec(pid)?.[1] : undefined;
}

function failed(err: unknown): Reply {
  const e = err as { code?: unknown; message?: unknown };
  return json(502, { ok: false, code: typeof e.code === 'string' ? e.code : 'FDN_ERR_FAILED', message: typeof e.message === 'string' ? e.message : String(err) });
}

/** The observer's routes, answering from `client`'s cluster. */
export function observerRoutes(client: InspectClient, options: ObserverOptions = {}): Route[] {
  const intervalMs = options.intervalMs ?? 1_000;
  const ecosystemsEvery = options.ecosystemsEvery ?? 5;
  const now = options.now ?? Date.now;
  const events: Route = {
    path: '/observer/events',
    events(request, send) {
      const view = new ClusterView(client, now);
      const selected = request.query.get('node') ?? client.contact;
      const last = new Map<string, string>();
      let tick = 0;
      let stopped = false;
      let timer: NodeJS.Timeout | null = null;
      const refresh = async (): Promise<void> => {
        try {
          const sections = await view.gather(selected, tick % ecosystemsEvery === 0);
          for (const [name, value] of Object.entries(sections)) {
            const text = JSON.stringify(value);
            if (last.get(name) === text || stopped) continue;
            last.set(name, text);
            send(name, value);
          }
          send('tick', { at: now(), tick });
        } catch (err) {
          send('problem', { message: err instanceof Error ? err.message : String(err) });
        }
        tick++;
        if (!stopped) timer = setTimeout(() => void refresh(), intervalMs);
      };
      void refresh();
      return () => {
        stopped = true;
        if (timer !== null) clearTimeout(timer);
      };
    },
  };
  const process: Route = {
    path: '/observer/process',
    async get(request) {
      const pid = request.query.get('pid');
      const node = nodeOf(pid);
      if (node === undefined) return json(400, { ok: false, message: 'pid=<node.id.incarnation> is required' });
      return client.ask('info', { pid }, node).then((info) => json(200, { ok: true, info }), failed);
    },
  };
  const kill: Route = {
    path: '/observer/kill',
    async post(request) {
      const pid = (request.body as { pid?: unknown } | null)?.pid;
      const node = nodeOf(pid);
      if (node === undefined) return json(400, { ok: false, message: 'the body is { "pid": "<node.id.incarnation>" }' });
      return client.ask('kill', { pid }, node).then((done) => json(200, { ok: true, done }), failed);
    },
  };
  const switchTopology: Route = {
    path: '/observer/switch',
    async post(request) {
      const to = (request.body as { to?: unknown } | null)?.to;
      if (typeof to !== 'string') return json(400, { ok: false, message: 'the body is { "to": "hyparview" }' });
      return client.ask('switch', { to, reason: 'switched from the observer' }).then((result) => json(200, result), failed);
    },
  };
  return [...Object.entries(ASSETS).map(([path, file]) => asset(path, file)), events, process, kill, switchTopology];
}
