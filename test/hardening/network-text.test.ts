/**
 * Issue 12 item 2: text a server sends (spec error messages and codes, token-service bodies,
 * header values) never reaches the terminal raw. Every case: one line on stderr, exit 1, the
 * store byte for byte unchanged, no raw control character in stdout or stderr, and the escaped
 * text visible where it is shown at all. Token-service bodies are never quoted (invalid JSON is
 * said so, without V8's message, which quotes the input).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createServer as createNetServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { expectOneLineError, importDir, makeRoot, snapshotTree } from '../helpers/cli.js';
import type { Hostile } from '../helpers/hostile-registry.js';
import { NASTY, hasRawControl, startHostile } from '../helpers/hostile-registry.js';
import { tsd } from '../helpers/remote-cli.js';

/** NASTY as ts-docker shows it. */
const NASTY_SHOWN = '\\x00\\x1b[31mRED\\x1b[0m\\x1b]0;pwned\\a\\x1b[2J\\r';

let reg: Hostile;
let root: string;

const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  await Promise.all(closers.map((c) => c()));
});

/** Runs `args` against a store holding one image; asserts the clean failure and returns stderr. */
async function failsClean(args: string[], text: string, extra: string[] = []): Promise<string> {
  root ??= await (async () => {
    const r = await makeRoot();
    await importDir(r, 'kept', 'local/kept:1');
    return r;
  })();
  const before = await snapshotTree(root);
  const r = await tsd([...extra, ...args], { root, input: 'pw' });
  expect(hasRawControl(r.stdout + r.stderr), JSON.stringify(r.stdout + r.stderr)).toBe(false);
  if (extra.includes('--debug')) {
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toContain(text);
  } else {
    expectOneLineError(r, text);
  }
  expect(await snapshotTree(root)).toEqual(before);
  return r.stderr;
}

/** A spec error answer. */
function specError(res: ServerResponse, status: number, errors: unknown[], headers: Record<string, string> = {}): true {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify({ errors }));
  return true;
}

describe('registry error bodies', () => {
  it('NASTY in a spec error message and detail is shown escaped', async () => {
    reg ??= await startHostile();
    reg.on('nasty/message', (_req, res, info) => info.kind === 'manifests' && specError(res, 403, [{ code: 'DENIED', message: `denied ${NASTY}`, detail: NASTY }]));
    const err = await failsClean(['pull', `${reg.host}/nasty/message:1`], `denied: denied ${NASTY_SHOWN}`);
    expect(err).not.toContain('pwned\u0007');
  });

  it('NASTY in the error code, and in --debug output, is escaped too', async () => {
    reg ??= await startHostile();
    reg.on('nasty/code', (_req, res, info) => info.kind === 'manifests' && specError(res, 400, [{ code: `MANIFEST_INVALID${NASTY}`, message: 'gone' }]));
    await failsClean(['pull', `${reg.host}/nasty/code:1`], `manifest_invalid${NASTY_SHOWN.toLowerCase()}: gone`);
    await failsClean(['pull', `${reg.host}/nasty/code:1`], 'gone', ['--debug']);
  });

  it('a 401 with NASTY in its message', async () => {
    reg ??= await startHostile();
    reg.on('nasty/denied', (_req, res, info) => info.kind === 'manifests'
      && specError(res, 401, [{ code: 'UNAUTHORIZED', message: NASTY }], { 'www-authenticate': 'Basic realm="x"' }));
    await failsClean(['pull', `${reg.host}/nasty/denied:1`], `unauthorized: ${NASTY_SHOWN}`);
  });

  it('an HTML or raw text error body is not printed; malformed spec entries do not crash', async () => {
    reg ??= await startHostile();
    reg.on('nasty/page', (_req, res, info) => {
      if (info.kind !== 'manifests') return false;
      res.writeHead(403, { 'content-type': 'text/html' }).end(`<html>${NASTY}</html>`);
      return true;
    });
    reg.on('nasty/shape', (_req, res, info) => info.kind === 'manifests' && specError(res, 400, [{ code: 7 }, null, 'x', { message: NASTY }]));
    const html = await failsClean(['pull', `${reg.host}/nasty/page:1`], `manifest for ${reg.host}/nasty/page:1: 403`);
    expect(html).not.toContain('html');
    await failsClean(['pull', `${reg.host}/nasty/shape:1`], `manifest for ${reg.host}/nasty/shape:1: 400`);
  });
});

/** A registry whose `/v2/` and repositories answer with a Bearer challenge naming its own /token, served by `token`. */
async function tokenRegistry(token: (req: IncomingMessage, res: ServerResponse) => void): Promise<Hostile> {
  const h = await startHostile();
  const challenge = `Bearer realm="${h.url}/token",service="hostile"`;
  const gate = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.headers.authorization?.startsWith('Bearer ')) return false;
    specError(res, 401, [{ code: 'UNAUTHORIZED', message: 'authentication required' }], { 'www-authenticate': challenge });
    return true;
  };
  h.onPing((req, res) => {
    if (!gate(req, res)) res.writeHead(200).end('{}');
  });
  h.on('t/app', (req, res) => gate(req, res));
  h.onOther((req, res) => {
    if (!req.url?.startsWith('/token')) return false;
    token(req, res);
    return true;
  });
  return h;
}

describe('token services', () => {
  it('NASTY text instead of JSON: "returned invalid JSON", the body never quoted (pull and login)', async () => {
    const h = await tokenRegistry((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(NASTY));
    const err = await failsClean(['pull', `${h.host}/t/app:1`], `token service for ${h.host} returned invalid JSON`);
    expect(err).not.toContain('RED');
    await failsClean(['login', h.host, '-u', 'x', '--password-stdin'], `token service for ${h.host} returned invalid JSON`);
  });

  it('truncated JSON quoting a secret: V8\'s parse message (which quotes the input) is not shown', async () => {
    const h = await tokenRegistry((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"token":"s3cret-value'));
    const err = await failsClean(['pull', `${h.host}/t/app:1`], `token service for ${h.host} returned invalid JSON`);
    expect(err).not.toContain('s3cret');
    expect(err).not.toMatch(/Unterminated|position|Unexpected/);
  });

  it('an error status with a NASTY body: the status only', async () => {
    const h = await tokenRegistry((_req, res) => res.writeHead(500, { 'content-type': 'text/plain' }).end(NASTY));
    const err = await failsClean(['pull', `${h.host}/t/app:1`], `token service for ${h.host} answered 500`);
    expect(err).not.toContain('RED');
  });

  it('a token holding control characters is refused, not sent as a header', async () => {
    const h = await tokenRegistry((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `abc${NASTY}` })));
    await failsClean(['pull', `${h.host}/t/app:1`], `token service for ${h.host} returned a token that is not printable ASCII`);
    expect(h.requests.filter((r) => r.headers.authorization?.includes('RED'))).toEqual([]);
  });

  it('JSON that is not an object, or a token that is not a string: "returned no token"', async () => {
    const h = await tokenRegistry((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(req.url?.includes('scope=') ? '{"token":{"x":1}}' : 'null'));
    await failsClean(['pull', `${h.host}/t/app:1`], `token service for ${h.host} returned no token`);
  });
});

describe('header values', () => {
  it('a token realm with C1 control characters (sent as latin1 bytes) is shown escaped', async () => {
    const h = await startHostile();
    const challenge = 'Bearer realm="\u009b31m\u009d0;pwned\u009c not a url"';
    h.onPing((_req, res) => void specError(res, 401, [{ code: 'UNAUTHORIZED', message: 'x' }], { 'www-authenticate': challenge }));
    h.on('c1/app', (_req, res) => specError(res, 401, [{ code: 'UNAUTHORIZED', message: 'x' }], { 'www-authenticate': challenge }));
    await failsClean(['pull', `${h.host}/c1/app:1`], `registry ${h.host} named an invalid token realm (\\u009b31m\\u009d0;pwned\\u009c not a url)`);
  });

  it('a redirect Location that is no URL is shown escaped', async () => {
    const h = await startHostile();
    h.on('loc/app', (_req, res, info) => {
      if (info.kind !== 'manifests') return false;
      res.writeHead(307, { location: 'http://[\u009b2J' }).end();
      return true;
    });
    await failsClean(['pull', `${h.host}/loc/app:1`], `${h.host} answered 307 with an invalid Location "http://[\\u009b2J"`);
  });

  it('raw ESC and NUL in a WWW-Authenticate header (a raw socket server: Node refuses to send them)', async () => {
    const sockets = new Set<Socket>();
    const raw = createNetServer((sock) => {
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
      sock.on('error', () => undefined);
      sock.once('data', () => {
        sock.end(
          'HTTP/1.1 401 Unauthorized\r\n'
          + `WWW-Authenticate: Bearer realm="\u001b]0;pwned\u0007\u001b[2J\u0000x"\r\n`
          + 'Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}',
          'latin1',
        );
      });
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    closers.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => raw.close(() => resolve()));
    });
    const host = `127.0.0.1:${(raw.address() as AddressInfo).port}`;
    // undici's parser may refuse such a header outright; either way, one clean line.
    await failsClean(['pull', `${host}/raw/app:1`], host);
  });
});
