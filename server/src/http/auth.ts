import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

/** Hosts that only this machine can reach: no token needed there. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function generateToken(): string {
  return randomBytes(18).toString('base64url');
}

export function tokenMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * With a token set, every request must carry it: `Authorization: Bearer <token>` (API) or
 * `?token=<token>` (pages, scripts, images). Without one (loopback), everything passes.
 */
export function requireToken(token: string | null) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (token === null) return next();
    const header = req.get('authorization');
    const bearer = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
    if (tokenMatches(token, bearer) || tokenMatches(token, req.query.token)) return next();
    res.status(401).json({
      error:
        'missing or wrong access token: send Authorization: Bearer <token> or ?token=<token> (printed when the server started)',
    });
  };
}
