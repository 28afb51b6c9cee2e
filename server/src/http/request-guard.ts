import type { NextFunction, Request, Response } from 'express';

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
