/**
 * A token issuer for docker-registry's token auth, written for the tests (node:http +
 * node:crypto): ES256 JWTs carrying the signing certificate in `x5c`, access granted by scope
 * (anonymous: pull; users: pull and push), optional refresh tokens (`offline_token=true`, then
 * `POST grant_type=refresh_token`), and short lifetimes that really expire (see REGISTRY-NOTES:
 * the registry allows 60 s of leeway, so `exp = iat + ttl - 60`).
 */
import { X509Certificate, createPrivateKey, randomBytes, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Pair } from './pki.js';

/** One token handed out. */
export interface Issued {
  account: string | undefined;
  grant: 'anonymous' | 'basic' | 'refresh_token';
  scopes: string[];
  access: { type: string; name: string; actions: string[] }[];
  exp: number;
  iat: number;
}

/** Issuer settings. */
export interface IssuerOptions {
  service: string;
  issuer: string;
  users: Record<string, string>;
  /** Token lifetime in seconds, reported as expires_in (default 300). */
  ttl?: number;
  /** Compensate the registry's 60 s leeway so tokens really expire after ttl. */
  expireForReal?: boolean;
  /** Hand out refresh tokens on `offline_token=true` and accept them in POST. */
  refreshTokens?: boolean;
  /** Actions anonymous clients get (default pull). */
  anonymousActions?: string[];
  /** Answer anonymous token requests with 401, as token services of logged-in-only registries do. */
  refuseAnonymous?: boolean;
  /** Serve HTTPS with this certificate; the realm then names `tlsName` (a name in the certificate). */
  tls?: Pair & { tlsName: string };
}

/** A running issuer. */
export interface TokenIssuer {
  realm: string;
  issued: Issued[];
  /** Every request's method, query and whether it carried Authorization. */
  requests: { method: string; url: string; authorized: boolean }[];
  /** Refresh tokens handed out, by token. */
  refreshTokens: Map<string, string>;
  stop: () => Promise<void>;
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

function signJwt(key: KeyObject, certDer: string, claims: object): string {
  const header = { alg: 'ES256', typ: 'JWT', x5c: [certDer] };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  // docker-registry wants the raw r||s form (64 bytes), not DER.
  const sig = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(sig)}`;
}

function parseScope(scope: string): { type: string; name: string; actions: string[] } | undefined {
  const m = /^([^:]+):(.+):([^:]*)$/.exec(scope);
  return m ? { type: m[1]!, name: m[2]!, actions: m[3]!.split(',').filter(Boolean) } : undefined;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Starts the issuer on a random loopback port. */
export async function startTokenIssuer(signer: Pair, opts: IssuerOptions): Promise<TokenIssuer> {
  const key = createPrivateKey(await readFile(signer.key));
  // x5c is standard base64 of the DER certificate (not base64url).
  const certDer = new X509Certificate(await readFile(signer.cert)).raw.toString('base64');
  const issued: Issued[] = [];
  const requests: TokenIssuer['requests'] = [];
  const refreshTokens = new Map<string, string>();
  const ttl = opts.ttl ?? 300;

  const deny = (res: ServerResponse, status: number, details: string): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ details }));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://issuer');
    requests.push({ method: req.method ?? '', url: url.pathname + url.search, authorized: !!req.headers.authorization });
    let params = url.searchParams;
    let account: string | undefined;
    let grant: Issued['grant'] = 'anonymous';
    if (req.method === 'POST') {
      params = new URLSearchParams(await readBody(req));
      if (params.get('grant_type') !== 'refresh_token') return deny(res, 400, 'unsupported grant_type');
      account = refreshTokens.get(params.get('refresh_token') ?? '');
      if (!account) return deny(res, 401, 'invalid refresh token');
      grant = 'refresh_token';
    } else if (req.headers.authorization) {
      const m = /^Basic (.+)$/.exec(req.headers.authorization);
      const [user, ...rest] = Buffer.from(m?.[1] ?? '', 'base64').toString('utf8').split(':');
      if (!user || opts.users[user] === undefined || opts.users[user] !== rest.join(':')) return deny(res, 401, 'incorrect username or password');
      account = user;
      grant = 'basic';
    }
    if (!account && opts.refuseAnonymous) return deny(res, 401, 'authentication required');
    if (params.get('service') !== opts.service) return deny(res, 400, 'wrong service');
    const scopes = params.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
    const allowed = account ? ['pull', 'push'] : (opts.anonymousActions ?? ['pull']);
    const access = scopes.flatMap((s) => {
      const p = parseScope(s);
      if (!p || p.type !== 'repository') return [];
      const actions = p.actions.filter((a) => allowed.includes(a));
      return actions.length ? [{ type: p.type, name: p.name, actions }] : [];
    });
    const iat = Math.floor(Date.now() / 1000);
    const exp = opts.expireForReal ? iat + ttl - 60 : iat + ttl;
    const claims = {
      iss: opts.issuer, sub: account ?? '', aud: opts.service, iat, nbf: iat - 1, exp, jti: randomBytes(8).toString('hex'), access,
    };
    issued.push({ account, grant, scopes, access, exp, iat });
    const token = signJwt(key, certDer, claims);
    const body: Record<string, unknown> = { token, access_token: token, expires_in: ttl, issued_at: new Date(iat * 1000).toISOString() };
    if (opts.refreshTokens && account && grant === 'basic' && params.get('offline_token') === 'true') {
      const refresh = `refresh-${randomBytes(16).toString('hex')}`;
      refreshTokens.set(refresh, account);
      body['refresh_token'] = refresh;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: Error) => deny(res, 500, err.message));
  };
  const server: Server = opts.tls
    ? createHttpsServer({ cert: await readFile(opts.tls.cert), key: await readFile(opts.tls.key) }, onRequest)
    : createServer(onRequest);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    realm: opts.tls ? `https://${opts.tls.tlsName}:${port}/token` : `http://127.0.0.1:${port}/token`,
    issued,
    requests,
    refreshTokens,
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
