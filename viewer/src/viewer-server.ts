/**
 * `orthostim view`: a small HTTP server on the loopback interface for an output folder. It serves
 * the viewer page, its NiiVue bundle (esbuild, cached like the session server's display bundle),
 * the list of maps (/api/maps, from index.json) and the files under the folder (/files/...,
 * through the shared path check, so nothing outside the folder is reachable).
 */
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveInside } from '@orthostim/protocol/node';
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

export async function startViewer(options: {
  dir: string;
  port?: number;
  host?: string;
  cacheDir?: string;
}): Promise<ViewerServer> {
  const dir = options.dir;
  listViewerMaps(dir); // refuse a folder without maps before listening
  const bundle = buildViewerBundle(options.cacheDir ? { cacheDir: options.cacheDir } : {});
  bundle.catch(() => {}); // reported when /viewer.js is asked for
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'method not allowed\n');
    if (url.pathname === '/' || url.pathname === '/index.html')
      return send(200, 'text/html; charset=utf-8', viewerPage(dir));
    if (url.pathname === '/viewer.js') {
      bundle.then(
        (b) => send(200, 'text/javascript; charset=utf-8', b.js),
        (err: Error) => send(500, 'text/plain', `viewer bundle failed: ${err.message}\n`),
      );
      return;
    }
    if (url.pathname === '/api/maps') {
      try {
        return send(200, 'application/json; charset=utf-8', JSON.stringify(listViewerMaps(dir)));
      } catch (err) {
        return send(500, 'text/plain', `${(err as Error).message}\n`);
      }
    }
    if (url.pathname.startsWith('/files/')) {
      const rel = url.pathname.slice('/files/'.length);
      const file = resolveInside(dir, rel);
      const type = file ? contentType(file) : null;
      if (!file || !type) return send(404, 'text/plain', 'not found\n');
      res.writeHead(200, {
        'content-type': type,
        'content-length': statSync(file).size,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      });
      if (req.method === 'HEAD') return res.end();
      createReadStream(file).pipe(res);
      return;
    }
    return send(404, 'text/plain', 'not found\n');
  });
  const host = options.host ?? '127.0.0.1';
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
