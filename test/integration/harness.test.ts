// The integration harness, tested on its own with plain HTTP and skopeo (not ts-docker): the
// registry answers, nginx lets exactly client_max_body_size through, the fault proxy counts and
// injects faults, and the image builders make what they say.
// docker-registry only (vitest project `docker-registry`; the `builtin-registry` project leaves
// this file out): it checks docker-registry itself (its log lines, REGISTRY_* overrides,
// htpasswd, relativeurls, its on-disk layout, 2.8.2 dropping a session whose PATCH was cut), so
// every registry here is started with `backend: 'docker-registry'`. The backend switch that
// lets the client suites run against the built-in registry is checked at the end.
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE, makeRoot, makeSandbox, readIndex, requireTool } from '../helpers/cli.js';
import { waitUntil } from '../helpers/daemon.js';
import { blobGets, isBlobGet, isUploadPatch, startFaultProxy, uploadPatches } from '../helpers/fault-proxy.js';
import { fullRef, makeImage, makeMultiPlatformLayout, seededBytes, storeProblems } from '../helpers/images.js';
import { checkLayout } from '../helpers/layout.js';
import { parseAccessLog, startNginx } from '../helpers/nginx.js';
import type { Registry } from '../helpers/registry.js';
import { REGISTRY_BACKEND_ENV, htpasswdEntry, registryBackend, startRegistry } from '../helpers/registry.js';
import { canIsolateCache, skopeo, skopeoInspect, skopeoOk, withTlsFlags } from '../helpers/skopeo.js';

const MiB = 1024 * 1024;

interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One raw HTTP exchange (no retries, no redirects), on a fresh connection. */
function http(method: string, url: string, opts: { headers?: Record<string, string>; body?: Buffer } = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Follows a registry Location (absolute or relative) from `base`. */
function resolveLocation(base: string, location: string | string[] | undefined): string {
  if (typeof location !== 'string') throw new Error(`no Location header: ${String(location)}`);
  return new URL(location, base).toString();
}

/** `location` with `digest=` added (docker-registry's Location already has a `_state` query; the built-in one's has none). */
function withDigest(location: string, digest: string): string {
  const u = new URL(location);
  u.searchParams.set('digest', digest);
  return u.toString();
}

/** Uploads `data` as a blob of `repo` through `base` in PATCH chunks of `chunk` bytes, then PUT. */
async function uploadBlob(base: string, repo: string, data: Buffer, chunk = data.length): Promise<{ digest: string; statuses: number[] }> {
  const statuses: number[] = [];
  const post = await http('POST', `${base}/v2/${repo}/blobs/uploads/`);
  statuses.push(post.status);
  expect(post.status).toBe(202);
  let loc = resolveLocation(base, post.headers['location']);
  for (let off = 0; off < data.length; off += chunk) {
    const part = data.subarray(off, off + chunk);
    const r = await http('PATCH', loc, {
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(part.length), 'Content-Range': `${off}-${off + part.length - 1}` },
      body: part,
    });
    statuses.push(r.status);
    expect(r.status, r.body.toString()).toBe(202);
    loc = resolveLocation(base, r.headers['location']);
  }
  const digest = sha(data);
  const put = await http('PUT', withDigest(loc, digest), { headers: { 'Content-Length': '0' } });
  statuses.push(put.status);
  expect(put.status, put.body.toString()).toBe(201);
  return { digest, statuses };
}

let registry: Registry;

beforeAll(async () => {
  await requireTool('docker-registry');
  await requireTool('nginx');
  await requireTool('skopeo');
  registry = await startRegistry({ backend: 'docker-registry' });
});
afterAll(async () => {
  await registry?.stop();
});

describe('startRegistry', () => {
  it('answers GET /v2/ on a loopback port and stores blobs in its temp dir', async () => {
    expect(registry.url).toBe(`http://127.0.0.1:${registry.port}`);
    expect(registry.host).toBe(`127.0.0.1:${registry.port}`);
    const r = await http('GET', `${registry.url}/v2/`);
    expect(r.status).toBe(200);
    expect(r.headers['docker-distribution-api-version']).toBe('registry/2.0');
    const { digest } = await uploadBlob(registry.url, 'harness/blob', Buffer.from('hello harness\n'));
    const got = await http('GET', `${registry.url}/v2/harness/blob/blobs/${digest}`);
    expect(got.body.toString()).toBe('hello harness\n');
    const onDisk = await readFile(registry.blobFile(digest), 'utf8');
    expect(onDisk).toBe('hello harness\n');
    expect(registry.log()).toContain('listening on 127.0.0.1:');
  });

  it('ignores REGISTRY_* variables of the calling environment', async () => {
    const saved = process.env['REGISTRY_AUTH_FILE'];
    process.env['REGISTRY_AUTH_FILE'] = '/nonexistent/auth.json';
    process.env['REGISTRY_HTTP_ADDR'] = '0.0.0.0:1';
    try {
      const other = await startRegistry({ backend: 'docker-registry' });
      expect((await http('GET', `${other.url}/v2/`)).status).toBe(200);
      await other.stop();
    } finally {
      if (saved === undefined) delete process.env['REGISTRY_AUTH_FILE'];
      else process.env['REGISTRY_AUTH_FILE'] = saved;
      delete process.env['REGISTRY_HTTP_ADDR'];
    }
  });

  it('with htpasswd, asks for Basic auth and accepts the user', async () => {
    const auth = await startRegistry({ backend: 'docker-registry', htpasswd: await htpasswdEntry('alice', 's3cret') });
    const anon = await http('GET', `${auth.url}/v2/`);
    expect(anon.status).toBe(401);
    expect(String(anon.headers['www-authenticate'])).toMatch(/^Basic realm="ts-docker-test"/);
    const ok = await http('GET', `${auth.url}/v2/`, { headers: { Authorization: `Basic ${Buffer.from('alice:s3cret').toString('base64')}` } });
    expect(ok.status).toBe(200);
    const bad = await http('GET', `${auth.url}/v2/`, { headers: { Authorization: `Basic ${Buffer.from('alice:wrong').toString('base64')}` } });
    expect(bad.status).toBe(401);
    await auth.stop();
  });

  it('merges extraConfig (relative Location headers)', async () => {
    const rel = await startRegistry({ backend: 'docker-registry', extraConfig: { http: { relativeurls: true } } });
    const post = await http('POST', `${rel.url}/v2/x/y/blobs/uploads/`);
    expect(post.status).toBe(202);
    expect(String(post.headers['location'])).toMatch(/^\/v2\/x\/y\/blobs\/uploads\//);
    await rel.stop();
  });
});

describe('skopeo wrapper', () => {
  it('runs with an empty blob-info cache here (root + unshare)', async () => {
    expect(await canIsolateCache(), 'skopeo needs an empty blob-info cache: run the suites as root, with unshare (util-linux)').toBe(true);
    const r = await skopeo(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^skopeo version /);
  });
  it('adds TLS flags for docker:// sides only', () => {
    expect(withTlsFlags(['copy', 'oci:/a:b', 'docker://h/r:1'])).toEqual(['copy', '--dest-tls-verify=false', 'oci:/a:b', 'docker://h/r:1']);
    expect(withTlsFlags(['copy', '--all', 'docker://h/r:1', 'oci:/a:b'])).toEqual(['copy', '--src-tls-verify=false', '--all', 'docker://h/r:1', 'oci:/a:b']);
    expect(withTlsFlags(['inspect', 'docker://h/r:1'])).toEqual(['inspect', '--tls-verify=false', 'docker://h/r:1']);
    expect(withTlsFlags(['inspect', 'oci:/a:b'])).toEqual(['inspect', 'oci:/a:b']);
  });
  it('pushes the fixture to the registry and inspects it there', async () => {
    await skopeoOk(['copy', `docker-archive:${FIXTURE}`, `docker://${registry.host}/harness/fixture:1`]);
    const info = await skopeoInspect(`docker://${registry.host}/harness/fixture:1`);
    expect(info.Digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(info.Layers.length).toBeGreaterThan(0);
  });
});

describe('startNginx', () => {
  it('passes exactly client_max_body_size (1m) and answers 413 to one byte more; the log shows each chunk', async () => {
    const nginx = await startNginx(registry.host, { maxBodySize: '1m' });
    try {
      const base = nginx.url;
      const post = await http('POST', `${base}/v2/harness/nginx/blobs/uploads/`);
      expect(post.status).toBe(202);
      // The registry saw the client's Host (with the port): its Location points back at nginx.
      expect(String(post.headers['location'])).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${nginx.port}/v2/harness/nginx/blobs/uploads/`));
      let loc = resolveLocation(base, post.headers['location']);
      const data = seededBytes(1, MiB + 1);
      const tooBig = await http('PATCH', loc, { headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(MiB + 1), 'Content-Range': `0-${MiB}` }, body: data });
      expect(tooBig.status).toBe(413);
      // The session is still usable: exactly 1 MiB goes through, then the last byte.
      const first = await http('PATCH', loc, { headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(MiB), 'Content-Range': `0-${MiB - 1}` }, body: data.subarray(0, MiB) });
      expect(first.status).toBe(202);
      loc = resolveLocation(base, first.headers['location']);
      const second = await http('PATCH', loc, { headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': '1', 'Content-Range': `${MiB}-${MiB}` }, body: data.subarray(MiB) });
      expect(second.status).toBe(202);
      loc = resolveLocation(base, second.headers['location']);
      const put = await http('PUT', withDigest(loc, sha(data)), { headers: { 'Content-Length': '0' } });
      expect(put.status).toBe(201);

      const log = await nginx.settledAccessLog();
      const patches = log.filter((e) => e.method === 'PATCH');
      expect(patches.map((e) => [e.status, e.contentLength, e.contentRange])).toEqual([
        [413, MiB + 1, `0-${MiB}`],
        [202, MiB, `0-${MiB - 1}`],
        [202, 1, `${MiB}-${MiB}`],
      ]);
      expect(patches[0]!.upstreamStatus).toBeUndefined();
      expect(patches[1]!.upstreamStatus).toBe('202');
      expect(patches[1]!.requestLength).toBeGreaterThan(MiB);
      expect(patches[1]!.uri).toMatch(/^\/v2\/harness\/nginx\/blobs\/uploads\/[0-9a-f-]+$/);
      expect(patches[1]!.args).toMatch(/_state=/);
      expect(log.find((e) => e.method === 'PUT')).toMatchObject({ status: 201, contentLength: 0 });
    } finally {
      await nginx.stop();
    }
  });

  it('parses absent values as undefined', () => {
    expect(parseAccessLog('GET\t/v2/\t-\t200\t85\t-\t-\t-\t2\t200\n')).toEqual([
      { method: 'GET', uri: '/v2/', args: '', status: 200, requestLength: 85, contentLength: undefined, contentRange: undefined, transferEncoding: undefined, bodyBytesSent: 2, upstreamStatus: '200' },
    ]);
  });
});

describe('startFaultProxy', () => {
  it('forwards unchanged (Host kept, Location points at the proxy) and counts body bytes per request', async () => {
    const proxy = await startFaultProxy(registry.host);
    try {
      const base = `http://${proxy.host}`;
      const data = seededBytes(2, 300_000);
      const post = await http('POST', `${base}/v2/harness/proxy/blobs/uploads/`);
      expect(String(post.headers['location'])).toContain(`http://${proxy.host}/v2/harness/proxy/blobs/uploads/`);
      const { digest } = await uploadBlob(base, 'harness/proxy', data, 100_000);
      const got = await http('GET', `${base}/v2/harness/proxy/blobs/${digest}`);
      expect(sha(got.body)).toBe(digest);
      const s = proxy.stats();
      expect(s.requestBytes(uploadPatches)).toBe(300_000);
      expect(s.requests.filter((r) => r.method === 'PATCH').map((r) => r.requestBytes)).toEqual([100_000, 100_000, 100_000]);
      expect(s.responseBytes(blobGets)).toBe(300_000);
      expect(s.byRoute[`GET /v2/harness/proxy/blobs/${digest}`]).toEqual({ count: 1, requestBytes: 0, responseBytes: 300_000 });
      expect(s.faults).toEqual([]);
      proxy.resetStats();
      expect(proxy.stats().requests).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });

  it('resets a PATCH after N request-body bytes, once', async () => {
    const proxy = await startFaultProxy(registry.host, { resetRequest: { afterBytes: 50_000, match: isUploadPatch } });
    try {
      const base = `http://${proxy.host}`;
      const post = await http('POST', `${base}/v2/harness/reset/blobs/uploads/`);
      const loc = resolveLocation(base, post.headers['location']);
      const body = seededBytes(3, 200_000);
      const err = await http('PATCH', loc, { headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(body.length) }, body }).then(
        (r): NodeJS.ErrnoException => new Error(`expected a reset, got ${r.status}`),
        (e: NodeJS.ErrnoException) => e,
      );
      expect(['ECONNRESET', 'EPIPE']).toContain(err.code);
      const s = proxy.stats();
      expect(s.requests.find((r) => r.method === 'PATCH')!.requestBytes).toBe(50_000);
      expect(s.faults).toHaveLength(1);
      expect(s.faults[0]).toMatch(/^reset PATCH .* after 50000 request bytes$/);
      // One-shot: the next upload goes through.
      await uploadBlob(base, 'harness/reset', body, 100_000);
      expect(proxy.stats().faults).toHaveLength(1);
    } finally {
      await proxy.stop();
    }
  });

  it('resets a blob GET after N response-body bytes, flips a byte, answers 503 with Retry-After', async () => {
    const data = seededBytes(4, 400_000);
    const { digest } = await uploadBlob(registry.url, 'harness/get', data);
    const proxy = await startFaultProxy(registry.host, { resetResponse: { afterBytes: 123_456 } });
    try {
      const url = `http://${proxy.host}/v2/harness/get/blobs/${digest}`;
      const partial: Buffer[] = [];
      const err = await new Promise<NodeJS.ErrnoException>((resolve) => {
        const req = request(url, { agent: false }, (res) => {
          res.on('data', (c: Buffer) => partial.push(c));
          res.on('error', (e) => resolve(e));
          res.on('aborted', () => resolve(Object.assign(new Error('aborted'), { code: 'ECONNRESET' })));
          res.on('end', () => resolve(Object.assign(new Error('ended'), { code: 'END' })));
        });
        req.on('error', (e) => resolve(e));
        req.end();
      });
      expect(err.code).toBe('ECONNRESET');
      expect(Buffer.concat(partial).length).toBe(123_456);
      expect(proxy.stats().faults[0]).toMatch(/^reset GET .* after 123456 response bytes$/);
      // HEAD is not a blob GET; the next GET is whole.
      expect((await http('HEAD', url)).status).toBe(200);
      expect(sha((await http('GET', url)).body)).toBe(digest);

      proxy.setRules({ corruptResponse: {} });
      const bad = await http('GET', url);
      expect(bad.status).toBe(200);
      expect(bad.body.length).toBe(data.length);
      expect(sha(bad.body)).not.toBe(digest);
      const diff = [...bad.body].map((b, i) => (b !== data[i] ? i : -1)).filter((i) => i >= 0);
      expect(diff).toEqual([200_000]);
      expect(sha((await http('GET', url)).body)).toBe(digest);

      proxy.setRules({ unavailable: { count: 2, match: isBlobGet } });
      const u1 = await http('GET', url);
      expect(u1.status).toBe(503);
      expect(u1.headers['retry-after']).toBe('1');
      expect((await http('HEAD', url)).status).toBe(200);
      expect((await http('GET', url)).status).toBe(503);
      expect(sha((await http('GET', url)).body)).toBe(digest);
      expect(proxy.stats().faults.filter((f) => f.startsWith('503'))).toHaveLength(2);
    } finally {
      await proxy.stop();
    }
  });

  it('bufferRequests: a PATCH cut mid-body never reaches the registry, so the session stays usable', async () => {
    const proxy = await startFaultProxy(registry.host, { bufferRequests: {}, resetRequest: { afterBytes: 70_000, match: isUploadPatch } });
    try {
      const base = `http://${proxy.host}`;
      const data = seededBytes(6, 300_000);
      const post = await http('POST', `${base}/v2/harness/buffered/blobs/uploads/`);
      let loc = resolveLocation(base, post.headers['location']);
      const first = await http('PATCH', loc, { headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': '100000' }, body: data.subarray(0, 100_000) }).then(
        (r): NodeJS.ErrnoException => new Error(`expected a reset, got ${r.status}`),
        (e: NodeJS.ErrnoException) => e,
      );
      expect(['ECONNRESET', 'EPIPE']).toContain(first.code);
      const cut = proxy.stats().requests.find((r) => r.method === 'PATCH')!;
      expect(cut).toMatchObject({ receivedBytes: 70_000, requestBytes: 0 });
      // The registry never saw it: the same Location still works (2.8.2 would cancel a session with a partial PATCH).
      const status = await http('GET', loc);
      expect(status.status).toBe(204);
      expect(status.headers['range']).toBe('0-0');
      const again = await http('PATCH', loc, { headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(data.length) }, body: data });
      expect(again.status).toBe(202);
      loc = resolveLocation(base, again.headers['location']);
      const put = await http('PUT', withDigest(loc, sha(data)), { headers: { 'Content-Length': '0' } });
      expect(put.status).toBe(201);
      expect(proxy.stats().requestBytes(uploadPatches)).toBe(300_000);
      expect(proxy.stats().receivedBytes(uploadPatches)).toBe(370_000);
    } finally {
      await proxy.stop();
    }
  });

  it('without buffering, a PATCH cut mid-body makes docker-registry 2.8.2 drop the session (why resume tests buffer)', async () => {
    const proxy = await startFaultProxy(registry.host, { resetRequest: { afterBytes: 70_000, match: isUploadPatch } });
    try {
      const base = `http://${proxy.host}`;
      const data = seededBytes(7, 100_000);
      const post = await http('POST', `${base}/v2/harness/unbuffered/blobs/uploads/`);
      const loc = resolveLocation(base, post.headers['location']);
      await http('PATCH', loc, { headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(data.length) }, body: data }).catch(() => undefined);
      const uuid = new URL(loc).pathname.split('/').at(-1)!;
      await waitUntil('the registry to notice the cut PATCH', () =>
        registry.log().split('\n').some((l) => l.includes('client disconnected during blob PATCH') && l.includes(uuid)) || undefined,
      );
      const status = await http('GET', loc);
      expect(status.status).toBe(404);
      expect(status.body.toString()).toContain('BLOB_UPLOAD_INVALID');
    } finally {
      await proxy.stop();
    }
  });

  it('throttles bodies (a download is observably half-way for a while) without changing them', async () => {
    const data = seededBytes(5, 2 * MiB);
    const { digest } = await uploadBlob(registry.url, 'harness/slow', data);
    const proxy = await startFaultProxy(registry.host, { throttle: { bytesPerSecond: 2 * MiB } });
    try {
      const got = http('GET', `http://${proxy.host}/v2/harness/slow/blobs/${digest}`);
      let seenPartial = false;
      for (let i = 0; i < 400 && !seenPartial; i++) {
        const n = proxy.stats().responseBytes(blobGets);
        if (n > 0 && n < data.length) seenPartial = true;
        else await new Promise((r) => setTimeout(r, 10));
      }
      expect(seenPartial).toBe(true);
      expect(sha((await got).body)).toBe(digest);
    } finally {
      await proxy.stop();
    }
  });
});

describe('image builders', () => {
  it('makeImage: one layer via import, deterministic, incompressible', async () => {
    const a = await makeRoot();
    const b = await makeRoot();
    const one = await makeImage(a, `${registry.host}/harness/one:1`, [{ sizeMiB: 2, seed: 7 }]);
    const again = await makeImage(b, `${registry.host}/harness/one:1`, [{ sizeMiB: 2, seed: 7 }]);
    expect(again.layers).toEqual(one.layers);
    expect(again.id).toBe(one.id);
    expect(one.layers).toHaveLength(1);
    expect(one.layers[0]!.size).toBeGreaterThanOrEqual(2 * MiB);
    expect(one.fullName).toBe(`${registry.host}/harness/one:1`);
    expect(await checkLayout(a)).toMatchObject({ missing: [], corrupt: [], unreferenced: [] });
  });

  it('makeImage: several layers via a hand-written OCI layout, skopeo and load', async () => {
    const root = await makeRoot();
    const img = await makeImage(root, 'harness/multi:2', [
      { sizeMiB: 1, seed: 11 },
      { sizeMiB: 0.5, seed: 12 },
      { sizeMiB: 0.25, seed: 13 },
    ]);
    expect(img.fullName).toBe('docker.io/harness/multi:2');
    expect(img.layers).toHaveLength(3);
    expect(new Set(img.layers.map((l) => l.digest)).size).toBe(3);
    expect(img.layers[0]!.size).toBeGreaterThan(MiB);
    expect(await checkLayout(root)).toMatchObject({ missing: [], corrupt: [], unreferenced: [] });
    const info = await skopeoInspect(`oci:${root}:${img.fullName}`);
    expect(info.Layers).toEqual(img.layers.map((l) => l.digest));
  });

  it('makeMultiPlatformLayout: skopeo copies the two-platform index to the registry', async () => {
    const m = await makeMultiPlatformLayout();
    await skopeoOk(['copy', '--all', m.ociRef, `docker://${registry.host}/harness/multi:1`]);
    const raw = JSON.parse((await skopeoOk(['inspect', '--raw', `docker://${registry.host}/harness/multi:1`])).stdout) as { manifests: Array<{ digest: string; platform: { architecture: string; os: string } }> };
    expect(raw.manifests.map((x) => `${x.platform.os}/${x.platform.architecture}`)).toEqual(['linux/amd64', 'linux/arm64']);
    expect(raw.manifests.map((x) => x.digest)).toEqual([m.amd64.manifest.digest, m.arm64.manifest.digest]);
    const arm = await skopeoInspect(`docker://${registry.host}/harness/multi:1`, '--override-arch', 'arm64');
    expect(arm.Architecture).toBe('arm64');
    expect(arm.Layers).toEqual([m.arm64.layers[0]!.digest]);
  });

  it('fullRef normalizes like docker', () => {
    expect(fullRef('apa000ex22')).toBe('docker.io/library/apa000ex22:latest');
    expect(fullRef('a/b:1')).toBe('docker.io/a/b:1');
    expect(fullRef('127.0.0.1:5000/a')).toBe('127.0.0.1:5000/a:latest');
    expect(fullRef('localhost/a:2')).toBe('localhost/a:2');
  });

  it('storeProblems finds a blob that does not match its name, and a name pointing at a missing blob', async () => {
    const root = await makeRoot();
    const img = await makeImage(root, 'harness/check:1', [{ sizeMiB: 0.1, seed: 21 }]);
    expect(await storeProblems(root)).toEqual({ misnamedBlobs: [], missing: [], corrupt: [] });
    const layerHex = img.layers[0]!.digest.slice(7);
    await writeFile(join(root, 'blobs', 'sha256', layerHex), 'not the layer');
    const p = await storeProblems(root);
    expect(p.misnamedBlobs).toEqual([layerHex]);
    expect(p.corrupt).toEqual([img.layers[0]!.digest]);
    await rm(join(root, 'blobs', 'sha256', layerHex));
    expect(await storeProblems(root)).toEqual({ misnamedBlobs: [], missing: [img.layers[0]!.digest], corrupt: [] });
    expect((await readIndex(root)).manifests).toHaveLength(1);
    expect(await storeProblems(await makeSandbox())).toEqual({ misnamedBlobs: [], missing: [], corrupt: [] });
  });
});

describe('registry backend switch (what the builtin-registry project uses)', () => {
  it('backend builtin: ts-docker registry serve behind the same interface; blobFile finds an uploaded blob', async () => {
    expect(registry.backend).toBe('docker-registry');
    const builtin = await startRegistry({ backend: 'builtin' });
    try {
      expect(builtin.backend).toBe('builtin');
      expect(builtin.url).toBe(`http://127.0.0.1:${builtin.port}`);
      expect(builtin.host).toBe(`127.0.0.1:${builtin.port}`);
      expect((await http('GET', `${builtin.url}/v2/`)).status).toBe(200);
      const { digest } = await uploadBlob(builtin.url, 'harness/builtin', Buffer.from('hello built-in\n'), 6);
      expect(await readFile(builtin.blobFile(digest), 'utf8')).toBe('hello built-in\n');
      expect(builtin.blobFile(digest)).toBe(join(builtin.storage, 'blobs', 'sha256', digest.slice(7)));
      expect(builtin.log()).toContain('ts-docker registry listening on 127.0.0.1:');
    } finally {
      await builtin.stop();
    }
  });

  it('the built-in backend refuses docker-registry-only options with a clear error', async () => {
    await expect(startRegistry({ backend: 'builtin', extraConfig: { http: { relativeurls: true } } })).rejects.toThrow(
      "the built-in registry has no extraConfig (docker-registry config): start this suite with backend 'docker-registry'",
    );
    await expect(startRegistry({ backend: 'builtin', token: { realm: 'http://127.0.0.1:1/token', service: 's', issuer: 'i', rootCertBundle: '/nonexistent' } })).rejects.toThrow(/no token auth/);
  });

  it(`${REGISTRY_BACKEND_ENV} picks the default backend`, () => {
    const saved = process.env[REGISTRY_BACKEND_ENV];
    try {
      process.env[REGISTRY_BACKEND_ENV] = 'builtin';
      expect(registryBackend()).toBe('builtin');
      process.env[REGISTRY_BACKEND_ENV] = 'docker-registry';
      expect(registryBackend()).toBe('docker-registry');
      delete process.env[REGISTRY_BACKEND_ENV];
      expect(registryBackend()).toBe('docker-registry');
      process.env[REGISTRY_BACKEND_ENV] = 'distribution';
      expect(() => registryBackend()).toThrow(`${REGISTRY_BACKEND_ENV}=distribution: expected docker-registry or builtin`);
    } finally {
      if (saved === undefined) delete process.env[REGISTRY_BACKEND_ENV];
      else process.env[REGISTRY_BACKEND_ENV] = saved;
    }
  });
});
