/** Calling a running session server's JSON API from tests, and waiting on its state. */

export interface ApiReply {
  status: number;
  json: Record<string, any>;
}

/**
 * `call` answers with the status and JSON body whatever the status; `api` throws unless 2xx.
 * With a token, every call carries `Authorization: Bearer <token>`.
 */
export function sessionApi(baseUrl: () => string, token?: string) {
  const call = async (method: string, path: string, body?: unknown): Promise<ApiReply> => {
    const res = await fetch(`${baseUrl()}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, any> };
  };
  const api = async (method: string, path: string, body?: unknown): Promise<Record<string, any>> => {
    const r = await call(method, path, body);
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
    return r.json;
  };
  return { call, api };
}

/** Poll until `done` holds (a condition, not a fixed sleep). */
export async function until<T>(get: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (done(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting; last value ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
