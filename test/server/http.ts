/** A tiny raw HTTP client for the conformance suite (node's fetch; no redirects followed). */
import { createHash } from 'node:crypto';
import { request } from 'node:http';

/** A finished response, body read. */
export interface Res {
  status: number;
  headers: Headers;
  body: Buffer;
  /** The parsed JSON body (throws if it is not JSON). */
  json<T = unknown>(): T;
  /** The first spec error code of the body, if any. */
  code(): string | undefined;
}

/** `sha256:<hex>` of bytes. */
export const digest = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Sends one request to `base` + `path` (or an absolute URL) and reads the whole answer. */
export async function call(base: string, method: string, path: string, opts: { headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<Res> {
  const url = new URL(path, base);
  const r = await fetch(url, { method, headers: opts.headers ?? {}, body: opts.body, redirect: 'manual' });
  const body = method === 'HEAD' ? Buffer.alloc(0) : Buffer.from(await r.arrayBuffer());
  return {
    status: r.status,
    headers: r.headers,
    body,
    json: <T>() => JSON.parse(body.toString('utf8')) as T,
    code: () => {
      try {
        return (JSON.parse(body.toString('utf8')) as { errors?: Array<{ code: string }> }).errors?.[0]?.code;
      } catch {
        return undefined;
      }
    },
  };
}

/** `Location` of a response, resolved against `base` (servers may answer absolute or relative). */
export function location(base: string, r: Res): string {
  const loc = r.headers.get('location');
  if (!loc) throw new Error(`no Location (status ${r.status}): ${r.body.toString()}`);
  return new URL(loc, base).toString();
}

/** `url` with `key=value` added to its query. */
export function withQuery(url: string, params: Record<string, string>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

/** One request with the path sent exactly as given (no URL normalization of `..` or `%2e`). */
export function rawCall(base: string, method: string, rawPath: string): Promise<{ status: number; code: string | undefined }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path: rawPath, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let code: string | undefined;
        try {
          code = (JSON.parse(Buffer.concat(chunks).toString()) as { errors?: Array<{ code: string }> }).errors?.[0]?.code;
        } catch {
          code = undefined;
        }
        resolve({ status: res.statusCode ?? 0, code });
      });
    });
    req.on('error', reject);
    req.end();
  });
}
