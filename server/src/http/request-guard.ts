import type { NextFunction, Request, Response } from 'express';
import { refusedRequest } from '@orthostim/protocol/node';

/** 403 for a request whose Host is not this server's or whose Origin is another site's (see refusedRequest). */
export function requireOwnOrigin(allowedHosts: ReadonlySet<string>) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const why = refusedRequest({ host: req.get('host'), origin: req.get('origin') }, allowedHosts);
    if (why === null) return next();
    process.stderr.write(`orthostim: refused ${req.method} ${req.originalUrl.slice(0, 200)}: ${why}\n`);
    res.status(403).json({ error: why });
  };
}

/**
 * State-changing requests must say `Content-Type: application/json`: a plain HTML form or a
 * `text/plain` fetch from another page (which a browser sends without asking the server) is refused.
 */
export function requireJsonBody(req: Request, res: Response, next: NextFunction): void {
  if (req.method === 'GET' || req.method === 'HEAD' || req.is('application/json')) return next();
  res.status(415).json({
    error: `${req.method} needs Content-Type: application/json; got ${JSON.stringify(req.get('content-type') ?? '')}`,
  });
}
