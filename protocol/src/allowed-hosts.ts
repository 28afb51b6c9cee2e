import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostname, networkInterfaces } from 'node:os';

/**
 * Host and Origin checks shared by orthostim's HTTP servers (`serve`, `view`). A request is
 * answered only when its Host names this machine (a loopback name, the configured listen
 * address, one of the machine's interface addresses or its hostname, or a name the operator
 * allowed): a DNS-rebinding page, whose requests carry its own host name, is refused. A request
 * with an Origin header must come from the server's own origin (same scheme, host and port): a
 * page on another site cannot drive the API or open the socket.
 */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];

/** The host name of a Host header or URL host (`[::1]:8080` -> `::1`), lower case; null when malformed. */
export function hostNameOf(host: string): string | null {
  const h = host.trim().toLowerCase();
  const m = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(h) ?? /^([a-z0-9._-]+)(?::\d{1,5})?$/.exec(h);
  return m ? m[1]! : null;
}

/** Host names the server answers to: loopback, `listenHost`, the machine's addresses and hostname, `extra`. */
export function allowedHostNames(listenHost: string, extra: readonly string[] = []): Set<string> {
  const names = new Set<string>(LOOPBACK_NAMES);
  const listen = hostNameOf(listenHost.includes(':') && !listenHost.startsWith('[') ? `[${listenHost}]` : listenHost);
  // The any-address as a URL host (the printed URL with --host 0.0.0.0) only reaches this machine.
  if (listen) names.add(listen);
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) names.add(a.address.toLowerCase());
  const own = hostname().toLowerCase();
  names.add(own);
  names.add(`${own}.local`);
  for (const e of extra) {
    const n = hostNameOf(e) ?? e.toLowerCase();
    names.add(n);
  }
  return names;
}

export function isLoopbackName(name: string): boolean {
  return name === 'localhost' || name === '::1' || /^127\.\d+\.\d+\.\d+$/.test(name);
}

/**
 * Why a request must be refused (403), or null to answer it: a Host that is missing or not
 * allowed, or an Origin that is not `http://<Host>` exactly. Requests without Origin (curl,
 * scripts, a browser's own navigation) pass this check.
 */
export function refusedRequest(
  headers: { host?: string | undefined; origin?: string | undefined },
  allowed: ReadonlySet<string>,
): string | null {
  const host = headers.host;
  const name = host ? hostNameOf(host) : null;
  if (!host || !name) return `missing or malformed Host header ${JSON.stringify(host ?? '')}`;
  if (!allowed.has(name) && !isLoopbackName(name))
    return `host ${JSON.stringify(name)} is not one this server answers to (start it with --allowed-host ${name} if it should)`;
  const origin = headers.origin;
  if (origin !== undefined && origin.toLowerCase() !== `http://${host.toLowerCase()}`)
    return `cross-origin request from ${JSON.stringify(origin)} refused (only pages of http://${host} may call this server)`;
  return null;
}

/**
 * The check as connect/express middleware: 403 with a JSON `error` (and a line on stderr naming
 * the request) for a request `refusedRequest` refuses. `serve` and `view` both mount it first.
 */
export function ownOriginOnly(allowed: ReadonlySet<string>, program: string) {
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const why = refusedRequest({ host: req.headers.host, origin: req.headers.origin }, allowed);
    if (why === null) return next();
    process.stderr.write(`orthostim ${program}: refused ${req.method} ${(req.url ?? '').slice(0, 200)}: ${why}\n`);
    res.statusCode = 403;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(JSON.stringify({ error: why }));
  };
}
