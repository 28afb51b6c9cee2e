/**
 * `orthostim view`: a small express server on the loopback interface for an output folder. It
 * serves the viewer page, its NiiVue bundle (esbuild, cached like the session server's display
 * bundle), the list of maps (/api/maps, from index.json) and the files under the folder
 * (/files/..., express.static behind the shared path check, so nothing outside the folder is
 * reachable, through a symlink neither). Requests must name this machine in Host and, with an
 * Origin, come from the viewer's own page (no other site or rebinding DNS name reads the maps).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type Response } from 'express';
import { allowedHostNames, ownOriginOnly, resolveInside } from '@orthostim/protocol/node';
import { buildBrowserBundle } from '@orthostim/tooling';
import { listViewerMaps } from './map-listing';

const APP_DIR = join(dirname(fileURLToPath(import.meta.url)), 'app');
const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** File types the viewer serves, by extension. */
const CONTENT_TYPES: Record<string, string> = {
  '.nii.gz': 'application/gzip',
  '.nii': 'application/octet-stream',
  '.json': 'application/json; charset=utf-8',
  '.tsv': 'text/tab-separated-values; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

function contentType(path: string): string | null {
  const ext = Object.keys(CONTENT_TYPES).find((e) => path.endsWith(e));
  return ext ? CONTENT_TYPES[ext]! : null;
}

/** Version of an installed package whose exports hide its package.json: walk up from its entry. */
function installedVersion(name: string): string {
  let d = dirname(fileURLToPath(import.meta.resolve(name)));
  for (;;) {
    const p = join(d, 'package.json');
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name) return pkg.version ?? 'unknown';
    }
    const up = dirname(d);
    if (up === d) return 'unknown';
    d = up;
  }
}

export async function buildViewerBundle(options: { cacheDir?: string } = {}): Promise<{ js: string; cached: boolean }> {
  const niivueVersion = installedVersion('@niivue/niivue');
  const b = await buildBrowserBundle({
    name: 'viewer',
    entry: join(APP_DIR, 'main.ts'),
    sourceDirs: [APP_DIR],
    keys: [`@niivue/niivue@${niivueVersion}`],
    cacheDir: options.cacheDir ?? join(REPO_ROOT, '.cache', 'viewer'),
  });
  return { js: b.js, cached: b.cached };
}

export function viewerPage(title: string): string {
  const esc = (s: string) =>
    s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>orthostim view: ${esc(title)}</title>
<style>
body { margin: 0; font-family: 'DejaVu Sans', Verdana, Arial, sans-serif; display: flex; height: 100vh; background: #111; color: #ddd; }
#side { width: 330px; padding: 10px; overflow: auto; box-sizing: border-box; font-size: 13px; }
#side label { display: block; margin: 8px 0 2px; color: #aaa; }
#side select, #side input { width: 100%; box-sizing: border-box; }
#maps { height: 45vh; }
#main { flex: 1; position: relative; } #gl { width: 100%; height: 100%; display: block; }
#info { font-size: 12px; color: #bbb; white-space: pre-wrap; margin-top: 8px; }
h1 { font-size: 15px; margin: 0 0 6px; }
</style></head>
<body><div id="side"><h1>orthostim view</h1><div class="muted">${esc(title)}</div>
<label for="stat">statistic</label><select id="stat"></select>
<label for="maps">map</label><select id="maps" size="16"></select>
<label for="bg">background</label><select id="bg"></select>
<label for="thr">threshold (|value| &ge;)</label><input id="thr" type="number" step="0.05" value="0">
<label for="max">colour limit</label><input id="max" type="number" step="0.1" value="1">
<div id="info"></div></div>
<div id="main"><canvas id="gl"></canvas></div>
<script src="/viewer.js"></script></body></html>
`;
}

export interface ViewerServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

const noStore = (res: { setHeader(name: string, value: string): unknown }) => {
  res.setHeader('cache-control', 'no-store');
  res.setHeader('x-content-type-options', 'nosniff');
};

/** /files/...: only served types, only files that resolve inside `dir`; express.static sends them. */
function filesRoute(dir: string): express.Router {
  const files = express.Router();
  files.use((req, res, next) => {
    try {
      decodeURIComponent(req.path);
    } catch {
      return void res.status(400).type('text/plain').send('bad request: malformed percent-encoding in the path\n');
    }
    const file = resolveInside(dir, req.path.replace(/^\//, ''));
    if (!file || !contentType(file)) return void res.status(404).type('text/plain').send('not found\n');
    next();
  });
  files.use(
    express.static(dir, {
      dotfiles: 'ignore',
      index: false,
      redirect: false,
      fallthrough: false,
      setHeaders: (res, path) => {
        noStore(res);
        res.setHeader('content-type', contentType(path)!);
      },
    }),
  );
  return files;
}

function buildViewerApp(dir: string, allowed: ReadonlySet<string>, bundle: Promise<{ js: string }>): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(ownOriginOnly(allowed, 'view'));
  app.use((req, res, next) => {
    noStore(res);
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return void res.status(405).type('text/plain').send('method not allowed\n');
    next();
  });
  app.get(['/', '/index.html'], (_req, res) => res.type('html').send(viewerPage(dir)));
  app.get('/viewer.js', (_req, res) => {
    bundle.then(
      (b) => res.type('text/javascript; charset=utf-8').send(b.js),
      (err: Error) => res.status(500).type('text/plain').send(`viewer bundle failed: ${err.message}\n`),
    );
  });
  app.get('/api/maps', (_req, res) => {
    try {
      res.json(listViewerMaps(dir));
    } catch (err) {
      res
        .status(500)
        .type('text/plain')
        .send(`${(err as Error).message}\n`);
    }
  });
  app.use('/files', filesRoute(dir));
  app.use((_req, res) => res.status(404).type('text/plain').send('not found\n'));
  app.use((err: { status?: number; message?: string }, _req: Request, res: Response, _next: NextFunction) => {
    // Malformed percent-encoding and other client errors: their status, no stack trace.
    const status = typeof err.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) process.stderr.write(`orthostim view: internal error: ${String(err.message)}\n`);
    res
      .status(status)
      .type('text/plain')
      .send(status === 404 ? 'not found\n' : `${status === 500 ? 'internal error' : 'bad request'}\n`);
  });
  return app;
}

export async function startViewer(options: {
  dir: string;
  port?: number;
  host?: string;
  cacheDir?: string;
  /** Host names besides loopback, the listen address and this machine's that requests may name. */
  allowedHosts?: string[];
}): Promise<ViewerServer> {
  const dir = options.dir;
  listViewerMaps(dir); // refuse a folder without maps before listening
  const bundle = buildViewerBundle(options.cacheDir ? { cacheDir: options.cacheDir } : {});
  bundle.catch(() => {}); // reported when /viewer.js is asked for
  const host = options.host ?? '127.0.0.1';
  const server = createServer(buildViewerApp(dir, allowedHostNames(host, options.allowedHosts ?? []), bundle));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : options.port;
  return {
    url: `http://${host}:${port}/`,
    server,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
