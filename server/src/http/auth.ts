import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { isLoopbackName } from '@orthostim/protocol/node';

/** Hosts that only this machine can reach: no token needed there. */
export function isLoopbackHost(host: string): boolean {
  return isLoopbackName(host);
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

/** Name of the cookie that carries the token for the display's images, scripts and socket. */
export const TOKEN_COOKIE = 'orthostim_token';

/** The token cookie of a `Cookie` header, if any. */
export function tokenFromCookie(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === TOKEN_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * With a token set, every request must carry it: `Authorization: Bearer <token>` (API),
 * `?token=<token>` (the URLs printed at start), or the cookie a page loaded with `?token=` sets
 * (HttpOnly, SameSite=Strict), so the images, scripts and socket a page needs carry it too.
 * Without a token (loopback), everything passes.
 */
export function requireToken(token: string | null) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (token === null) return next();
    const header = req.get('authorization');
    const bearer = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
    if (tokenMatches(token, req.query.token)) {
      res.cookie(TOKEN_COOKIE, token, { httpOnly: true, sameSite: 'strict', path: '/' });
      return next();
    }
    if (tokenMatches(token, bearer) || tokenMatches(token, tokenFromCookie(req.get('cookie')))) return next();
    res.status(401).json({
      error:
        'missing or wrong access token: send Authorization: Bearer <token> or ?token=<token> (printed when the server started)',
    });
  };
}
