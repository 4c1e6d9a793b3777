// Crash safety (kill -9 during a chunked upload and during a manifest PUT, then restart on the
// same storage) and concurrency (8 ts-docker clients pushing at once) for `registry serve`.
import { stat } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeRoot, makeSandbox, manifestDigestFromStore } from '../helpers/cli.js';
import { waitUntil } from '../helpers/daemon.js';
import { makeImage } from '../helpers/images.js';
import { show, tsd } from '../helpers/remote-cli.js';
import { call, digest, location, withQuery } from './http.js';
import { startTsRegistry, type TsRegistry } from '../helpers/ts-registry.js';
import { storageProblems } from './storage-check.js';

const servers: TsRegistry[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});
async function start(root: string): Promise<TsRegistry> {
  const s = await startTsRegistry({ root });
  servers.push(s);
  return s;
}
async function kill9(s: TsRegistry): Promise<void> {
  s.daemon.child.kill('SIGKILL');
  await s.daemon.exited;
}

/** Starts a request, writes `part` of its body and leaves it open (the server is killed under it). */
function halfRequest(url: string, method: string, headers: Record<string, string>, part: Buffer): void {
  const u = new URL(url);
  const req = request({ host: u.hostname, port: u.port, method, path: u.pathname + u.search, headers, agent: false });
  req.on('error', () => undefined);
  req.write(part);
}

const bytes = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 13 + seed) % 256));

describe('crash safety', () => {
  it('kill -9 in the middle of a chunk: after restart the session reports what it holds and the upload resumes', async () => {
    const root = join(await makeSandbox(), 'registry');
    let reg = await start(root);
    const data = bytes(300_000, 1);
    const post = await call(reg.url, 'POST', '/v2/crash/up/blobs/uploads/');
    const first = await call(reg.url, 'PATCH', location(reg.url, post), { headers: { 'Content-Range': '0-99999', 'Content-Type': 'application/octet-stream' }, body: data.subarray(0, 100_000) });
    expect(first.status).toBe(202);
    const path = new URL(location(reg.url, first)).pathname;
    const uuid = path.split('/').at(-1)!;
    halfRequest(`${reg.url}${path}`, 'PATCH', { 'Content-Range': '100000-199999', 'Content-Length': '100000', 'Content-Type': 'application/octet-stream' }, data.subarray(100_000, 150_000));
    // Kill once the server has written part of that chunk.
    await waitUntil('the half chunk reached the disk', async () => ((await stat(join(root, 'uploads', uuid, 'data'))).size > 100_000 ? true : undefined));
    await kill9(reg);

    reg = await start(root);
    const st = await call(reg.url, 'GET', path);
    expect(st.status).toBe(204);
    const end = Number(/^0-(\d+)$/.exec(st.headers.get('range') ?? '')?.[1]);
    expect(end).toBeGreaterThanOrEqual(99_999);
    expect(end).toBeLessThan(150_000);
    const rest = await call(reg.url, 'PATCH', location(reg.url, st), { headers: { 'Content-Range': `${end + 1}-${data.length - 1}`, 'Content-Type': 'application/octet-stream' }, body: data.subarray(end + 1) });
    expect(rest.status).toBe(202);
    const put = await call(reg.url, 'PUT', withQuery(location(reg.url, rest), { digest: digest(data) }));
    expect(put.status).toBe(201);
    expect((await call(reg.url, 'GET', `/v2/crash/up/blobs/${digest(data)}`)).body.equals(data)).toBe(true);
    expect(await storageProblems(root)).toEqual({ corruptBlobs: [], danglingTags: [] });
  });

  it('kill -9 during a manifest PUT: no tag points at a missing manifest, and the push can be redone', async () => {
    const root = join(await makeSandbox(), 'registry');
    let reg = await start(root);
    const layer = bytes(5000, 2);
    const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
    for (const b of [layer, config]) expect((await call(reg.url, 'POST', `/v2/crash/man/blobs/uploads/?digest=${digest(b)}`, { body: b })).status).toBe(201);
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digest(layer), size: layer.length }],
    }));
    halfRequest(`${reg.url}/v2/crash/man/manifests/v1`, 'PUT', { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json', 'Content-Length': String(manifest.length) }, manifest.subarray(0, 100));
    await kill9(reg);
    reg = await start(root);
    expect(await storageProblems(root)).toEqual({ corruptBlobs: [], danglingTags: [] });
    expect((await call(reg.url, 'GET', '/v2/crash/man/manifests/v1')).status).toBe(404);
    const put = await call(reg.url, 'PUT', '/v2/crash/man/manifests/v1', { headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' }, body: manifest });
    expect(put.status).toBe(201);
    expect((await call(reg.url, 'GET', '/v2/crash/man/manifests/v1')).body.equals(manifest)).toBe(true);
  });
});

describe('concurrency', () => {
  it('8 ts-docker clients push at once (4 the same image, 4 different ones); every image pulls back intact', async () => {
    const reg = await start(join(await makeSandbox(), 'registry'));
    // Four stores holding the same image (same seeds, same digests): ts-docker keeps resumable upload
    // sessions in its store, so processes sharing ONE store would share sessions (a client matter).
    const jobs: Array<{ name: string; root: string; digest: string }> = [];
    for (let i = 0; i < 4; i++) {
      const root = await makeRoot();
      const img = await makeImage(root, `${reg.host}/conc/same:1`, [{ sizeMiB: 1, seed: 700 }, { sizeMiB: 0.5, seed: 701 }]);
      jobs.push({ name: `${reg.host}/conc/same:1`, root, digest: img.manifestDigest });
    }
    expect(new Set(jobs.map((j) => j.digest)).size).toBe(1);
    for (let i = 0; i < 4; i++) {
      const root = await makeRoot();
      const name = `${reg.host}/conc/img${i}:1`;
      // Layer 700 is shared with the "same" image, so blobs are uploaded to several repositories at once.
      const img = await makeImage(root, name, [{ sizeMiB: 1, seed: 700 }, { sizeMiB: 0.25, seed: 710 + i }]);
      jobs.push({ name, root, digest: img.manifestDigest });
    }
    const results = await Promise.all(jobs.map((j) => tsd(['push', '--chunk-size', '256k', j.name], { root: j.root })));
    for (const r of results) expect(r.code, `${show(r)}\n--- registry log ---\n${reg.log().split('\n').filter((l) => !/" 20[0-6] /.test(l)).join('\n')}`).toBe(0);
    for (const j of jobs.slice(3)) {
      const other = await makeRoot();
      const p = await tsd(['pull', j.name], { root: other });
      expect(p.code, show(p)).toBe(0);
      expect(await manifestDigestFromStore(other, j.name)).toBe(j.digest);
    }
    expect(await storageProblems(reg.root)).toEqual({ corruptBlobs: [], danglingTags: [] });
  });
});
