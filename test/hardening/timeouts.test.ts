// Issue 12 item 10: stall detection and a headers timeout. A manifest or a blob sent at 1 byte/s,
// and a server that accepts a request and never answers, end a pull with one line naming the host
// and what happened, exit 1, the store unchanged, in about (timeout x (1 + one retry)) instead of
// hanging. Short settings (TS_DOCKER_STALL_TIMEOUT / TS_DOCKER_HEADERS_TIMEOUT, seconds) keep it fast.
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, importDir, makeRoot, snapshotTree } from '../helpers/cli.js';
import type { Hostile } from '../helpers/hostile-registry.js';
import { hasRawControl, makeTestImage, notFound, startHostile } from '../helpers/hostile-registry.js';
import { RETRYING, show, tsd } from '../helpers/remote-cli.js';

let h: Hostile;
beforeAll(async () => {
  h = await startHostile();
});

/** Sends `bytes` one byte a second after the headers, until the client goes away. */
function drip(res: ServerResponse, headers: Record<string, string | number>, bytes: Buffer): void {
  res.writeHead(200, headers);
  res.flushHeaders();
  let i = 0;
  const t = setInterval(() => {
    if (i < bytes.length) res.write(bytes.subarray(i, ++i));
  }, 1000);
  res.on('close', () => clearInterval(t));
}

/** A store that already holds an image (`HOST/base:1`), to check it is left as it was. */
async function storeWithImage(): Promise<string> {
  const root = await makeRoot();
  await importDir(root, `base image ${Math.random()}`, `${h.host}/base:1`);
  return root;
}

/** The store except the resumable partial downloads (ingest/partial/), which a failed pull keeps on purpose. */
async function storeState(root: string): Promise<Map<string, string>> {
  const all = await snapshotTree(root);
  for (const k of [...all.keys()]) if (k.startsWith(join('ingest', 'partial'))) all.delete(k);
  return all;
}

const FAST = { TS_DOCKER_STALL_TIMEOUT: '2', TS_DOCKER_HEADERS_TIMEOUT: '2' };

describe('stalls', () => {
  it('a manifest sent at 1 byte/s: "stalled: ... from HOST", exit 1, in seconds', async () => {
    h.on('drip-manifest', (_req, res, info) => {
      if (info.kind !== 'manifests') return false;
      drip(res, { 'content-type': info.image.manifestMediaType, 'content-length': info.image.manifest.length }, info.image.manifest);
      return true;
    });
    const root = await storeWithImage();
    const before = await snapshotTree(root);
    const t0 = Date.now();
    const r = await tsd(['pull', `${h.host}/drip-manifest:1`], { root, env: FAST, timeoutMs: 60_000 });
    const seconds = (Date.now() - t0) / 1000;
    expectOneLineError(r, `from ${h.host} in 2 s`);
    expect(r.stderr).toMatch(/Error: stalled: /);
    expect(hasRawControl(r.stderr + r.stdout)).toBe(false);
    expect(seconds, show(r)).toBeLessThan(15);
    expect(await snapshotTree(root)).toEqual(before);
  });

  it('a layer sent at 1 byte/s: stalled, retried once, then one line, exit 1, store unchanged', async () => {
    h.setImage('drip-blob', makeTestImage({ files: [randomBytes(64 * 1024)] }));
    h.on('drip-blob', (_req, res, info) => {
      const layer = info.image.layers[0]!;
      if (info.kind !== 'blobs' || info.ref !== layer.digest) return false;
      drip(res, { 'content-type': 'application/octet-stream', 'content-length': layer.size }, layer.bytes);
      return true;
    });
    const root = await storeWithImage();
    const before = await storeState(root);
    const t0 = Date.now();
    const r = await tsd(['pull', `${h.host}/drip-blob:1`], { root, env: FAST, timeoutMs: 60_000 });
    const seconds = (Date.now() - t0) / 1000;
    expectOneLineError(r, 'stalled: only');
    expect(r.stderr).toContain(`from ${h.host} in 2 s`);
    expect(r.stdout.match(new RegExp(RETRYING.source, 'g')) ?? [], show(r)).toHaveLength(1);
    expect(r.stdout).toMatch(/Retrying in 1 second: stalled: /);
    expect(hasRawControl(r.stderr + r.stdout)).toBe(false);
    expect(seconds, show(r)).toBeLessThan(20);
    expect(await storeState(root)).toEqual(before);
  });
});

describe('a server that accepts and never answers', () => {
  it('the /v2/ ping: headers timeout, retried once, one line, exit 1, in about 2 x timeout', async () => {
    const silent = await startHostile();
    silent.onPing(() => undefined);
    const root = await storeWithImage();
    const before = await snapshotTree(root);
    const t0 = Date.now();
    const r = await tsd(['pull', `${silent.host}/x:1`], { root, env: FAST, timeoutMs: 60_000 });
    const seconds = (Date.now() - t0) / 1000;
    expectOneLineError(r, `timed out: no response from ${silent.host} in 2 s`);
    expect(r.stdout.match(new RegExp(RETRYING.source, 'g')) ?? [], show(r)).toHaveLength(1);
    expect(seconds, show(r)).toBeGreaterThan(4);
    expect(seconds, show(r)).toBeLessThan(12);
    expect(silent.requests.filter((q) => q.path === '/v2/')).toHaveLength(2);
    expect(await snapshotTree(root)).toEqual(before);
  });

  it('a blob GET: headers timeout, retried once, one line, exit 1, store unchanged', async () => {
    h.setImage('silent-blob', makeTestImage({ files: [randomBytes(64 * 1024)] }));
    h.on('silent-blob', (_req, _res, info) => {
      const layer = info.image.layers[0]!;
      return info.kind === 'blobs' && info.ref === layer.digest;
    });
    const root = await storeWithImage();
    const before = await storeState(root);
    const t0 = Date.now();
    const r = await tsd(['pull', `${h.host}/silent-blob:1`], { root, env: FAST, timeoutMs: 60_000 });
    const seconds = (Date.now() - t0) / 1000;
    expectOneLineError(r, `timed out: no response from ${h.host} in 2 s`);
    expect(seconds, show(r)).toBeLessThan(15);
    expect(await storeState(root)).toEqual(before);
  });

  it('a push whose final PUT is never answered: one line, exit 1', async () => {
    h.on('silent-put', (req, res, info) => {
      // Nothing exists here (HEAD 404), uploads are accepted, and the closing PUT never answered.
      if (info.kind === 'blobs') {
        notFound(res, 'BLOB_UNKNOWN', 'blob unknown to registry');
        return true;
      }
      return info.kind === 'uploads' && req.method === 'PUT';
    });
    const root = await storeWithImage();
    const tag = await tsd(['tag', `${h.host}/base:1`, `${h.host}/silent-put:1`], { root });
    expect(tag.code, show(tag)).toBe(0);
    const t0 = Date.now();
    const r = await tsd(['push', `${h.host}/silent-put:1`], { root, env: FAST, timeoutMs: 60_000 });
    const seconds = (Date.now() - t0) / 1000;
    expectOneLineError(r, `timed out: no response from ${h.host} in 2 s`);
    expect(seconds, show(r)).toBeLessThan(20);
  });
});

describe('settings', () => {
  it('a bad TS_DOCKER_STALL_TIMEOUT is one line, exit 1, its value escaped', async () => {
    const r = await tsd(['pull', `${h.host}/base:1`], { root: await makeRoot(), env: { TS_DOCKER_STALL_TIMEOUT: 'soon\u001b[31m' } });
    expectOneLineError(r, 'invalid TS_DOCKER_STALL_TIMEOUT "soon\\u001b[31m": use a number of seconds');
    expect(hasRawControl(r.stderr)).toBe(false);
  });
});
