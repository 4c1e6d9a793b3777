/**
 * Issue 12 item 1: credentials never go out over plain HTTP once the registry was reached over
 * TLS, decided from the URL a request really used (an "insecure" loopback registry that answers
 * TLS is upgraded to HTTPS by endpoints.ts, while its URL still says http:). Checked from the
 * servers' side: what each one received.
 * - a TLS registry on 127.0.0.1 (insecure by default, upgraded) naming a plain-HTTP token realm on
 *   another host: `pull` and `login` refuse, in one line, and the realm gets nothing;
 * - blob redirects from that TLS registry to plain HTTP on another host carry no Authorization;
 * - a secure registry (a real name, verified TLS) whose blob redirect downgrades to plain HTTP on
 *   the same host and port, which then asks for Basic auth: no Authorization goes there either.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, importDir, makeRoot, makeSandbox, manifestDigestFromStore, snapshotTree } from '../helpers/cli.js';
import type { Hostile, RouteInfo } from '../helpers/hostile-registry.js';
import { defaultAnswer, hasRawControl, makeTestImage, startHostile } from '../helpers/hostile-registry.js';
import { makeCa, signCert } from '../auth/helpers/pki.js';
import { leaked, tsd } from '../auth/helpers/run.js';
import { AuthError, Authenticator } from '../../src/transport/auth.js';

const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const BASIC = `Basic ${Buffer.from(`eve:${PASSWORD}`).toString('base64')}`;
let tls: { key: Buffer; cert: Buffer };
let caCert: string;
const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  await Promise.all(closers.map((c) => c()));
});

beforeAll(async () => {
  const pki = await makeSandbox();
  const ca = await makeCa(pki);
  const server = await signCert(pki, ca, 'hostile', 'server', 'DNS:dual.ts-docker.test,DNS:localhost,IP:127.0.0.1');
  tls = { key: await readFile(server.key), cert: await readFile(server.cert) };
  caCert = ca.cert;
});

/** A store that already holds an image (so "unchanged" means something). */
async function usedStore(): Promise<string> {
  const root = await makeRoot();
  await importDir(root, 'already here', 'local/kept:1');
  return root;
}

/** 401 with a Basic challenge unless the request carries the test's credentials. */
function basicGate(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.headers.authorization === BASIC) return false;
  res.writeHead(401, { 'www-authenticate': 'Basic realm="hostile"', 'content-type': 'application/json' })
    .end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
  return true;
}

/** A ping that wants Basic auth. */
function basicPing(h: Hostile): void {
  h.onPing((req, res) => {
    if (!basicGate(req, res)) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
}

/** A plain-HTTP server that would hand out tokens (and records who asked). */
async function startRealm(): Promise<Hostile> {
  const realm = await startHostile();
  realm.onOther((req, res) => {
    if (!req.url?.startsWith('/token')) return false;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'tok-anon', expires_in: 300 }));
    return true;
  });
  return realm;
}

describe('Authenticator', () => {
  it('mayAuthorize: the registry host only, and never plain HTTP once it was seen over TLS', () => {
    const a = new Authenticator(async () => undefined, async () => ({ status: 500, headers: {}, body: Readable.from([]) }));
    expect(a.mayAuthorize('r:5000', 'http://r:5000/v2/')).toBe(true);
    expect(a.mayAuthorize('r:5000', 'http://other:5000/v2/')).toBe(false);
    expect(a.mayAuthorize('r:5000', 'https://r:5001/v2/')).toBe(false);
    a.sawResponse('https://r:5000/v2/');
    expect(a.mayAuthorize('r:5000', 'https://r:5000/v2/x')).toBe(true);
    expect(a.mayAuthorize('r:5000', 'http://r:5000/v2/x')).toBe(false);
  });

  it('an http realm is judged by where it really goes (resolve), and only when there is a secret', async () => {
    let fetched = 0;
    const make = (resolve: (u: string) => string, cred: boolean): Authenticator => new Authenticator(
      async () => (cred ? { username: 'u', password: 'p' } : undefined),
      async () => {
        fetched++;
        return { status: 200, headers: {}, body: Readable.from([Buffer.from('{"token":"t"}')]) };
      },
      resolve,
    );
    const ch = [{ scheme: 'bearer', params: { realm: 'http://auth:1/token' } }];
    const refused = make((u) => u, true);
    refused.setChallenge('r:5000', ch, 'https://r:5000/v2/');
    await expect(refused.header('r:5000', 's')).rejects.toThrow(AuthError);
    expect(fetched).toBe(0);
    const upgraded = make((u) => u.replace(/^http:/, 'https:'), true);
    upgraded.setChallenge('r:5000', ch, 'https://r:5000/v2/');
    expect(await upgraded.header('r:5000', 's')).toBe('Bearer t');
    const anonymous = make((u) => u, false);
    anonymous.setChallenge('r:5000', ch, 'https://r:5000/v2/');
    expect(await anonymous.header('r:5000', 's')).toBe('Bearer t');
    const plainRegistry = make((u) => u, true);
    plainRegistry.setChallenge('r:5000', ch, 'http://r:5000/v2/');
    expect(await plainRegistry.header('r:5000', 's')).toBe('Bearer t');
  });
});

it('a TLS registry on 127.0.0.1 naming a plain-HTTP token realm: pull and login refuse, the realm gets no credentials', async () => {
  const reg = await startHostile({ tls });
  const realm = await startRealm();
  const config = await makeSandbox();
  // First the registry takes Basic (over TLS): the login is stored.
  basicPing(reg);
  const first = await tsd(['login', reg.host, '-u', 'eve', '--password-stdin'], { config, input: PASSWORD });
  expect(first.code, first.stderr).toBe(0);
  expect(reg.requests.some((r) => r.headers.authorization === BASIC)).toBe(true);
  const credsBefore = await readFile(join(config, 'credentials.json'));

  // Then it names a token service on plain HTTP, on another host.
  const challenge = `Bearer realm="http://${realm.host}/token",service="hostile"`;
  const bearer = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.headers.authorization === 'Bearer tok-anon') return false;
    res.writeHead(401, { 'www-authenticate': challenge, 'content-type': 'application/json' })
      .end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
    return true;
  };
  reg.onPing((req, res) => {
    if (!bearer(req, res)) res.writeHead(200).end('{}');
  });
  reg.on('secret/app', (req, res) => bearer(req, res));

  const refusal = `refusing to send credentials for ${reg.host} to its token service over plain HTTP (http://${realm.host}/token)`;
  const root = await usedStore();
  const before = await snapshotTree(root);
  const pull = await tsd(['pull', `${reg.host}/secret/app:1`], { config, root });
  expectOneLineError(pull, refusal);
  expect(await snapshotTree(root)).toEqual(before);

  const login = await tsd(['login', reg.host, '-u', 'eve', '--password-stdin'], { config, input: PASSWORD });
  expectOneLineError(login, refusal);
  // Nothing stored or changed, and the realm never heard from us.
  expect(await readFile(join(config, 'credentials.json'))).toEqual(credsBefore);
  expect(realm.requests).toEqual([]);

  // Anonymous tokens carry no secret: without a login the same realm may be used.
  const anon = await makeSandbox();
  const back = await makeRoot();
  const ok = await tsd(['pull', `${reg.host}/secret/app:1`], { config: anon, root: back });
  expect(ok.code, ok.stderr).toBe(0);
  expect(realm.requests.length).toBeGreaterThan(0);
  expect(realm.requests.filter((r) => r.headers.authorization !== undefined)).toEqual([]);
  expect(realm.requests.every((r) => !r.url.includes('account='))).toBe(true);
});

it('blob redirects from a TLS registry to plain HTTP carry no Authorization; back to the registry itself they stay on TLS', async () => {
  const reg = await startHostile({ tls });
  const blobs = await startHostile();
  const image = makeTestImage({ files: [Buffer.from('redirected layer')] });
  const byDigest = new Map([image.config, ...image.layers].map((b) => [b.digest, b.bytes]));
  blobs.onOther((req, res) => {
    const m = /^\/store\/(sha256:[0-9a-f]{64})$/.exec(new URL(req.url ?? '/', 'http://x').pathname);
    const bytes = m ? byDigest.get(m[1]!) : undefined;
    if (!bytes) return false;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length }).end(bytes);
    return true;
  });
  basicPing(reg);
  reg.setImage('away/app', image);
  reg.setImage('home/app', image);
  reg.on('away/app', (req, res, info: RouteInfo) => {
    if (basicGate(req, res)) return true;
    if (info.kind !== 'blobs' || req.method !== 'GET') return false;
    res.writeHead(307, { location: `http://${blobs.host}/store/${info.ref}` }).end();
    return true;
  });
  // The same host and port, written http:// : it is reached over TLS (upgraded), never in clear.
  reg.on('home/app', (req, res, info: RouteInfo) => {
    if (basicGate(req, res)) return true;
    if (info.kind !== 'blobs' || req.method !== 'GET' || req.url?.includes('moved=1')) return false;
    res.writeHead(302, { location: `http://${reg.host}/v2/home/app/blobs/${info.ref}?moved=1` }).end();
    return true;
  });
  const config = await makeSandbox();
  const login = await tsd(['login', reg.host, '-u', 'eve', '--password-stdin'], { config, input: PASSWORD });
  expect(login.code, login.stderr).toBe(0);

  for (const repo of ['away/app', 'home/app']) {
    const root = await makeRoot();
    const pull = await tsd(['pull', `${reg.host}/${repo}:1`], { config, root });
    expect(pull.code, pull.stderr).toBe(0);
    expect(await manifestDigestFromStore(root, `${reg.host}/${repo}:1`)).toBe(image.manifestDigest);
  }
  expect(blobs.requests.length).toBe(2);
  expect(blobs.requests.map((r) => r.headers.authorization)).toEqual([undefined, undefined]);
  // The TLS server (it speaks nothing else) got the moved requests, with the credentials, over TLS.
  const moved = reg.requests.filter((r) => r.url.includes('moved=1'));
  expect(moved.length).toBe(2);
});

/** One port speaking both TLS and plain HTTP (sniffing the first byte), recording which each request used. */
async function startDual(handler: (req: IncomingMessage, res: ServerResponse, secure: boolean) => void): Promise<{ port: number; log: Array<{ secure: boolean; url: string; authorization?: string }>; close: () => Promise<void> }> {
  const log: Array<{ secure: boolean; url: string; authorization?: string }> = [];
  const wrap = (secure: boolean) => (req: IncomingMessage, res: ServerResponse): void => {
    log.push({ secure, url: req.url ?? '', ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
    handler(req, res, secure);
  };
  const plain = createServer(wrap(false));
  const secure = createHttpsServer(tls, wrap(true));
  const sockets = new Set<Socket>();
  const front = createNetServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.once('data', (first: Buffer) => {
      sock.pause();
      sock.unshift(first);
      // 0x16: a TLS handshake record.
      (first[0] === 0x16 ? secure : plain).emit('connection', sock);
      process.nextTick(() => sock.resume());
    });
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  return {
    port: (front.address() as AddressInfo).port,
    log,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => front.close(() => resolve()));
    },
  };
}

it('a secure registry whose blob redirect downgrades to http:// on the same host and port, which asks for Basic: no Authorization in clear', async () => {
  const image = makeTestImage({ files: [Buffer.from('downgraded layer')] });
  let host = '';
  const dual = await startDual((req, res, secure) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (!secure) {
      // A Basic challenge over plain HTTP, from a host seen over TLS.
      req.resume();
      res.writeHead(401, { 'www-authenticate': 'Basic realm="downgrade"', 'content-type': 'application/json' })
        .end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      return;
    }
    if (basicGate(req, res)) return;
    if (path === '/v2/') return void res.writeHead(200).end('{}');
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/(.*)$/.exec(path);
    if (!m) return void res.writeHead(404).end();
    if (m[2] === 'blobs' && req.method === 'GET') {
      return void res.writeHead(307, { location: `http://${host}/v2/${m[1]}/blobs/${m[3]}` }).end();
    }
    defaultAnswer(req, res, { repo: m[1]!, kind: m[2] as 'manifests' | 'blobs', ref: m[3]!, image });
  });
  closers.push(dual.close);
  host = `dual.ts-docker.test:${dual.port}`;
  const config = await makeSandbox();
  const certs = join(config, 'certs.d', host);
  await mkdir(certs, { recursive: true });
  await copyFile(caCert, join(certs, 'ca.crt'));
  const hosts = { 'dual.ts-docker.test': '127.0.0.1' };
  const login = await tsd(['login', host, '-u', 'eve', '--password-stdin'], { config, input: PASSWORD, hosts });
  expect(login.code, login.stderr).toBe(0);
  expect(dual.log.every((e) => e.secure)).toBe(true);

  const root = await usedStore();
  const before = await snapshotTree(root);
  const pull = await tsd(['pull', `${host}/down/app:1`], { config, root, hosts });
  expectOneLineError(pull, 'unauthorized: authentication required');
  expect(await snapshotTree(root)).toEqual(before);
  const clear = dual.log.filter((e) => !e.secure);
  expect(clear.length).toBeGreaterThan(0);
  expect(clear.filter((e) => e.authorization !== undefined)).toEqual([]);
  expect(dual.log.filter((e) => e.secure && e.authorization === BASIC).length).toBeGreaterThan(0);
});

it('never printed the password, nor anything raw', async () => {
  expect(leaked([PASSWORD])).toEqual([]);
  const { transcript } = await import('../auth/helpers/run.js');
  expect(transcript.filter((t) => hasRawControl(t))).toEqual([]);
});
