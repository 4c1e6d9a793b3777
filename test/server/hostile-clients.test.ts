// Clients that would make the built-in registry read, hold or keep too much: a manifest body
// announced at 1 GiB (answered from Content-Length, the connection closed, nothing read), a
// chunked one that never ends, large bodies sent where none is wanted, abandoned upload
// sessions (purged by age, as docker-registry's storage.maintenance.uploadpurging), and one
// client opening sessions without end (capped per address and per user).
import { writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { settingsFromConfig, settingsFromEnv } from '../../src/server/config-file.js';
import { RegistryStorage, startRegistryServer, type RegistryServerOptions, type RunningRegistry } from '../../src/server/index.js';
import { Uploads } from '../../src/server/uploads.js';
import { makeSandbox } from '../helpers/cli.js';
import { waitUntil } from '../helpers/daemon.js';
import { htpasswdEntry } from '../helpers/registry.js';
import { startTsRegistry } from '../helpers/ts-registry.js';
import { call, digest, location } from './http.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const running: RunningRegistry[] = [];
afterAll(async () => {
  await Promise.all(running.map((r) => r.close()));
});

/** An in-process registry on a free loopback port; its log lines are collected. */
async function serve(opts: Partial<RegistryServerOptions> = {}): Promise<{ url: string; port: number; log: string[]; srv: RunningRegistry }> {
  const log: string[] = [];
  const srv = await startRegistryServer({ root: join(await makeSandbox(), 'registry'), host: '127.0.0.1', port: 0, log: (l) => log.push(l), ...opts });
  running.push(srv);
  return { url: `http://127.0.0.1:${srv.port}`, port: srv.port, log, srv };
}

/**
 * Opens a raw connection, writes `head`, then keeps writing `chunk` (when given) until the
 * server closes; resolves with everything the server sent and how much we managed to send.
 */
function rawExchange(port: number, head: string, chunk?: () => Buffer): Promise<{ response: string; sent: number }> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    let sent = 0;
    let closed = false;
    const pump = (): void => {
      while (!closed && chunk) {
        const c = chunk();
        sent += c.length;
        if (!sock.write(c)) {
          sock.once('drain', pump);
          return;
        }
      }
    };
    sock.on('connect', () => {
      sock.write(head);
      pump();
    });
    sock.on('data', (d: Buffer) => got.push(d));
    // A reset after the answer is fine for this client: what matters is the answer got through.
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'ECONNRESET' && e.code !== 'EPIPE') reject(e);
    });
    sock.on('close', () => {
      closed = true;
      resolve({ response: Buffer.concat(got).toString('latin1'), sent });
    });
  });
}

const status = (response: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);

describe('bodies the registry will not read', () => {
  it('a manifest PUT announcing 1 GiB: 413 SIZE_INVALID at once, the connection closed, the body never read', async () => {
    const { port, log } = await serve();
    const rss = process.memoryUsage().rss;
    const head = `PUT /v2/big/manifests/latest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${OCI_MANIFEST}\r\nContent-Length: 1073741824\r\n\r\n{"schemaVersion":`;
    const r = await rawExchange(port, head);
    expect(status(r.response)).toBe(413);
    expect(r.response).toMatch(/\r\nConnection: close\r\n/i);
    expect(r.response).toContain('"code":"SIZE_INVALID"');
    expect(r.response).toContain('manifest larger than 4194304 bytes');
    // Nothing like the body was taken in (the server runs in this process).
    expect(process.memoryUsage().rss - rss).toBeLessThan(256 * 1024 * 1024);
    expect(log.some((l) => l.includes('"PUT /v2/big/manifests/latest HTTP/1.1" 413'))).toBe(true);
  });

  it('a client that keeps sending after the 413 still reads the answer, and the server stops reading soon', async () => {
    const { port } = await serve();
    const head = `PUT /v2/big/manifests/latest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${OCI_MANIFEST}\r\nContent-Length: 1073741824\r\n\r\n`;
    const piece = Buffer.alloc(64 * 1024, 0x20);
    const r = await rawExchange(port, head, () => piece);
    expect(status(r.response)).toBe(413);
    expect(r.sent).toBeLessThan(256 * 1024 * 1024);
  });

  it('a chunked manifest body is cut off at the limit: 413, connection closed', async () => {
    const { port } = await serve({ maxManifestBytes: 64 * 1024 });
    const head = `PUT /v2/big/manifests/latest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${OCI_MANIFEST}\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const data = Buffer.alloc(16 * 1024, 0x20);
    const frame = Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]);
    const r = await rawExchange(port, head, () => frame);
    expect(status(r.response)).toBe(413);
    expect(r.response).toContain('manifest larger than 65536 bytes');
    expect(r.sent).toBeLessThan(256 * 1024 * 1024);
  });

  it('a PATCH of 1 GiB to an unknown session: 404 BLOB_UPLOAD_UNKNOWN at once, not after reading it', async () => {
    const { port } = await serve();
    const head = 'PATCH /v2/big/blobs/uploads/00000000-0000-0000-0000-000000000000 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: 1073741824\r\n\r\nabc';
    const r = await rawExchange(port, head);
    expect(status(r.response)).toBe(404);
    expect(r.response).toContain('"code":"BLOB_UPLOAD_UNKNOWN"');
  });

  it('a 1 GiB PATCH without credentials: 401 at once (the password check comes before any body)', async () => {
    const pw = join(await makeSandbox(), 'htpasswd');
    await writeFile(pw, await htpasswdEntry('alice', 'secret'));
    const { port } = await serve({ auth: { htpasswd: pw, realm: 'test' } });
    const r = await rawExchange(port, 'POST /v2/big/blobs/uploads/?digest=sha256:0000000000000000000000000000000000000000000000000000000000000000 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1073741824\r\n\r\nabc');
    expect(status(r.response)).toBe(401);
    expect(r.response).toContain('WWW-Authenticate: Basic realm="test"');
  });

  it('a session POST with a 1 GiB body it does not need: 202 at once, the body not read, the connection closed', async () => {
    const { port } = await serve();
    const r = await rawExchange(port, 'POST /v2/big/blobs/uploads/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1073741824\r\n\r\nabc');
    expect(status(r.response)).toBe(202);
    expect(r.response).toMatch(/\r\nConnection: close\r\n/i);
  });

  it('a small refused body is still drained: the connection stays usable (keep-alive)', async () => {
    const { url } = await serve();
    const bad = await call(url, 'PUT', '/v2/small/manifests/latest', { headers: { 'Content-Type': OCI_MANIFEST }, body: 'not json' });
    expect([bad.status, bad.code()]).toEqual([400, 'MANIFEST_INVALID']);
    expect(bad.headers.get('connection')).not.toBe('close');
  });
});

describe('abandoned upload sessions are purged (storage.maintenance.uploadpurging)', () => {
  it('a session older than the age is removed at the next run: its GET is 404 BLOB_UPLOAD_UNKNOWN; one line per run', async () => {
    const { url, log } = await serve({ uploadPurging: { enabled: true, ageMs: 300, intervalMs: 100, dryRun: false } });
    const post = await call(url, 'POST', '/v2/purge/blobs/uploads/');
    expect(post.status).toBe(202);
    const loc = location(url, post);
    expect((await call(url, 'GET', loc)).status).toBe(204);
    await waitUntil('the session to be purged', async () => ((await call(url, 'GET', loc)).status === 404 ? true : undefined));
    const gone = await call(url, 'GET', loc);
    expect([gone.status, gone.code()]).toEqual([404, 'BLOB_UPLOAD_UNKNOWN']);
    expect(log.some((l) => /^upload purge: purged 1 of 1 upload sessions older than 300ms; next run in 100ms$/.test(l))).toBe(true);
    // A fresh session is left alone.
    const fresh = await call(url, 'POST', '/v2/purge/blobs/uploads/');
    expect((await call(url, 'GET', location(url, fresh))).status).toBe(204);
  });

  it('dry run: the session is kept and the log names it', async () => {
    const { url, log } = await serve({ uploadPurging: { enabled: true, ageMs: 100, intervalMs: 100, dryRun: true } });
    const post = await call(url, 'POST', '/v2/dry/blobs/uploads/');
    const uuid = post.headers.get('docker-upload-uuid')!;
    await waitUntil('a dry-run line naming the session', () => log.find((l) => l.includes(`would purge 1 (dry run): ${uuid}`)));
    expect((await call(url, 'GET', location(url, post))).status).toBe(204);
  });

  it('disabled: nothing is purged, and the start log says so', async () => {
    const { log } = await serve({ uploadPurging: { enabled: false, ageMs: 1, intervalMs: 100, dryRun: false } });
    expect(log).toContain('upload purging is disabled (storage.maintenance.uploadpurging.enabled: false)');
  });

  it('config.yml keys and REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_* variables, with docker-registry\'s durations', () => {
    const doc = { storage: { filesystem: { rootdirectory: '/r' }, maintenance: { uploadpurging: { enabled: true, age: '1h30m', interval: '10m', dryrun: true }, readonly: { enabled: false } } }, tsdocker: { maxuploadsperclient: 8 } };
    expect(settingsFromConfig(doc, 'config.yml')).toEqual({
      settings: { root: '/r', purgeEnabled: true, purgeAgeMs: 90 * 60_000, purgeIntervalMs: 600_000, purgeDryRun: true, maxUploadsPerClient: 8 },
      ignored: ['storage.maintenance.readonly'],
    });
    expect(settingsFromEnv({ REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_ENABLED: 'false', REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_AGE: '168h', REGISTRY_TSDOCKER_MAXUPLOADSPERCLIENT: '3' }).settings)
      .toEqual({ purgeEnabled: false, purgeAgeMs: 168 * 3600_000, maxUploadsPerClient: 3 });
    expect(() => settingsFromEnv({ REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_AGE: 'a week' })).toThrow('REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_AGE must be a duration such as 168h, 30m or 10s');
    expect(() => settingsFromConfig({ storage: { maintenance: { uploadpurging: { dryrun: 'yes' } } } }, 'c.yml')).toThrow('c.yml: storage.maintenance.uploadpurging.dryrun must be true or false');
  });

  it('registry serve CONFIG: the settings reach the server (its first purge run is logged at start)', async () => {
    const cfg = join(await makeSandbox(), 'config.yml');
    await writeFile(cfg, 'version: 0.1\nstorage:\n  maintenance:\n    uploadpurging:\n      enabled: true\n      age: 2h\n      interval: 30m\n      dryrun: true\n');
    const reg = await startTsRegistry({ extra: [cfg] });
    try {
      await waitUntil('the purge line', () => (reg.log().includes('upload purge: would purge 0 (dry run) of 0 upload sessions older than 2h0m0s; next run in 30m0s') ? true : undefined), { context: () => reg.log() });
    } finally {
      await reg.stop();
    }
  });
});

describe('open upload sessions are capped per client', () => {
  it('the 65th POST gets 429 TOOMANYREQUESTS with Retry-After; cancelling one frees a place; finished and monolithic uploads do not count', async () => {
    const { url } = await serve();
    const locs: string[] = [];
    for (let i = 0; i < 64; i++) {
      const r = await call(url, 'POST', '/v2/many/blobs/uploads/');
      expect(r.status, `POST ${i + 1}`).toBe(202);
      locs.push(location(url, r));
    }
    const over = await call(url, 'POST', '/v2/other/blobs/uploads/');
    expect([over.status, over.code()]).toEqual([429, 'TOOMANYREQUESTS']);
    expect(over.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(over.body.toString()).toContain('too many open upload sessions for 127.0.0.1 (at most 64)');
    // A monolithic upload opens no session: it is not refused.
    expect((await call(url, 'POST', `/v2/many/blobs/uploads/?digest=${digest('mono')}`, { body: 'mono' })).status).toBe(201);
    expect((await call(url, 'DELETE', locs.pop()!)).status).toBe(204);
    const again = await call(url, 'POST', '/v2/many/blobs/uploads/');
    expect(again.status).toBe(202);
    expect((await call(url, 'POST', '/v2/many/blobs/uploads/')).status).toBe(429);
    // Finishing a session frees its place too.
    const done = await call(url, 'PUT', `${location(url, again)}${location(url, again).includes('?') ? '&' : '?'}digest=${digest('')}`);
    expect(done.status).toBe(201);
    expect((await call(url, 'POST', '/v2/many/blobs/uploads/')).status).toBe(202);
  });

  it('a session left idle (a push cut off) stops counting after 15 minutes, though it stays resumable until purged', async () => {
    const storage = new RegistryStorage(join(await makeSandbox(), 'registry'));
    await storage.init();
    const uploads = new Uploads(storage);
    const t0 = Date.now();
    const first = await uploads.create('r', ['addr:10.0.0.1'], 2, t0);
    await uploads.create('r', ['addr:10.0.0.1'], 2, t0);
    await expect(uploads.create('r', ['addr:10.0.0.1'], 2, t0 + 60_000)).rejects.toMatchObject({ status: 429, code: 'TOOMANYREQUESTS' });
    await uploads.create('r', ['addr:10.0.0.1'], 2, t0 + 16 * 60_000);
    expect((await uploads.get('r', first.uuid)).offset).toBe(0);
  });

  it('the cap is configurable, and with auth it holds per user as well as per address', async () => {
    const pw = join(await makeSandbox(), 'htpasswd');
    await writeFile(pw, (await htpasswdEntry('alice', 'a')) + (await htpasswdEntry('bob', 'b')));
    const { port } = await serve({ auth: { htpasswd: pw, realm: 'test' }, maxUploadsPerClient: 2 });
    // Loopback has every 127.x address: a second client address without a second machine.
    const post = (from: string, user: string, password: string): Promise<{ status: number; body: string }> => new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, localAddress: from, method: 'POST', path: '/v2/capped/blobs/uploads/', agent: false, headers: { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.end();
    });
    expect((await post('127.0.0.1', 'alice', 'a')).status).toBe(202);
    expect((await post('127.0.0.1', 'alice', 'a')).status).toBe(202);
    const over = await post('127.0.0.1', 'alice', 'a');
    expect(over.status).toBe(429);
    expect(over.body).toContain('TOOMANYREQUESTS');
    // alice from another address: still her 2 sessions (the user's cap); bob there: free.
    expect((await post('127.0.0.2', 'alice', 'a')).status).toBe(429);
    expect((await post('127.0.0.2', 'bob', 'b')).status).toBe(202);
    // bob from alice's address: that address is at its cap.
    expect((await post('127.0.0.1', 'bob', 'b')).status).toBe(429);
  });
});
