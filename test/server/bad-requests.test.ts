// Bad requests to `ts-docker registry serve` get the spec's error code and change nothing on disk.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../helpers/daemon.js';
import { snapshotTree } from '../helpers/cli.js';
import { call, digest, location, rawCall, withQuery } from './http.js';
import { startTsRegistry, type TsRegistry } from '../helpers/ts-registry.js';
import { storageProblems } from './storage-check.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
let reg: TsRegistry;
beforeAll(async () => {
  reg = await startTsRegistry({ extra: ['--chunk-min-length', '1024'] });
  // Something to protect: one blob in one repository.
  const post = await call(reg.url, 'POST', `/v2/keep/blobs/uploads/?digest=${digest('keep')}`, { body: 'keep' });
  expect(post.status).toBe(201);
});
afterAll(async () => {
  if (process.env['SHOW_LOG']) console.log(reg.log());
  await reg.stop();
});

/** Runs `fn`, then checks the storage (uploads aside) is byte-for-byte what it was. */
async function unchanged(fn: () => Promise<void>): Promise<void> {
  const strip = (m: Map<string, string>): Map<string, string> => new Map([...m].filter(([k]) => !k.startsWith('uploads/') && !k.startsWith('tmp/')));
  const before = strip(await snapshotTree(reg.root));
  await fn();
  expect(strip(await snapshotTree(reg.root))).toEqual(before);
}

describe('bad requests', () => {
  it('path traversal and invalid names: 400 NAME_INVALID', async () => {
    await unchanged(async () => {
      for (const name of ['a/%2e%2e/b', 'a/../../etc', 'UPPER/case', 'a//b', '-lead']) {
        const r = await rawCall(reg.url, 'GET', `/v2/${name}/tags/list`);
        expect([r.status, r.code], name).toEqual([400, 'NAME_INVALID']);
      }
      const r = await rawCall(reg.url, 'POST', `/v2/a/%2e%2e/%2e%2e/blobs/uploads/?digest=${digest('')}`);
      expect(r.status).toBe(400);
      const up = await rawCall(reg.url, 'GET', '/v2/keep/blobs/uploads/..%2f..%2fblobs');
      expect(up.status).toBe(404);
    });
  });

  it('a wrong digest on a monolithic upload: 400 DIGEST_INVALID, and a malformed digest too', async () => {
    await unchanged(async () => {
      const r = await call(reg.url, 'POST', `/v2/keep/blobs/uploads/?digest=${digest('other')}`, { body: 'bytes' });
      expect([r.status, r.code()]).toEqual([400, 'DIGEST_INVALID']);
      const m = await call(reg.url, 'GET', '/v2/keep/blobs/sha256:xyz');
      expect([m.status, m.code()]).toEqual([400, 'DIGEST_INVALID']);
    });
  });

  it('a malformed Content-Range, or one that disagrees with Content-Length: 416 with Range and Location', async () => {
    const post = await call(reg.url, 'POST', '/v2/keep/blobs/uploads/');
    expect(post.headers.get('oci-chunk-min-length')).toBe('1024');
    const loc = location(reg.url, post);
    for (const cr of ['bytes=abc', '5-2', '0-99']) {
      const r = await call(reg.url, 'PATCH', loc, { headers: { 'Content-Range': cr, 'Content-Type': 'application/octet-stream' }, body: 'short' });
      expect(r.status, cr).toBe(416);
      expect(r.headers.get('range')).toBe('0-0');
      expect(r.headers.get('location')).toBeTruthy();
    }
    const st = await call(reg.url, 'GET', loc);
    expect(st.headers.get('range')).toBe('0-0');
    const unknown = await call(reg.url, 'PATCH', `/v2/keep/blobs/uploads/00000000-0000-0000-0000-000000000000`, { body: 'x' });
    expect([unknown.status, unknown.code()]).toEqual([404, 'BLOB_UPLOAD_UNKNOWN']);
    const other = await call(reg.url, 'GET', loc.replace('/v2/keep/', '/v2/other/'));
    expect(other.status).toBe(404);
  });

  it('manifests: malformed, naming missing blobs, oversized, bad media type: errors, nothing stored', async () => {
    await unchanged(async () => {
      const bad = await call(reg.url, 'PUT', '/v2/keep/manifests/x', { headers: { 'Content-Type': OCI_MANIFEST }, body: 'not json' });
      expect([bad.status, bad.code()]).toEqual([400, 'MANIFEST_INVALID']);
      const missing = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest('keep'), size: 4 }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digest('gone'), size: 4 }] });
      const m = await call(reg.url, 'PUT', '/v2/keep/manifests/x', { headers: { 'Content-Type': OCI_MANIFEST }, body: missing });
      expect([m.status, m.code()]).toEqual([400, 'MANIFEST_BLOB_UNKNOWN']);
      const big = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, annotations: { pad: 'x'.repeat(5 * 1024 * 1024) } });
      const o = await call(reg.url, 'PUT', '/v2/keep/manifests/x', { headers: { 'Content-Type': OCI_MANIFEST }, body: big });
      expect(o.status).toBe(413);
      const mt = await call(reg.url, 'PUT', '/v2/keep/manifests/x', { headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ schemaVersion: 2, mediaType: 'text/plain' }) });
      expect([mt.status, mt.code()]).toEqual([400, 'MANIFEST_INVALID']);
      const tag = await call(reg.url, 'PUT', '/v2/keep/manifests/bad%20tag', { headers: { 'Content-Type': OCI_MANIFEST }, body: missing });
      expect(tag.status).toBe(400);
    });
    expect(await storageProblems(reg.root)).toEqual({ corruptBlobs: [], danglingTags: [] });
  });

  it('a PUT with the wrong digest keeps the session so the client can fix it', async () => {
    const post = await call(reg.url, 'POST', '/v2/keep/blobs/uploads/');
    const patch = await call(reg.url, 'PATCH', location(reg.url, post), { body: 'abc' });
    const wrong = await call(reg.url, 'PUT', withQuery(location(reg.url, patch), { digest: digest('abd') }));
    expect([wrong.status, wrong.code()]).toEqual([400, 'DIGEST_INVALID']);
    const right = await call(reg.url, 'PUT', withQuery(location(reg.url, patch), { digest: digest('abc') }));
    expect(right.status).toBe(201);
  });

  it('unsupported methods: 405 UNSUPPORTED', async () => {
    const r = await call(reg.url, 'POST', '/v2/keep/tags/list');
    expect([r.status, r.code()]).toEqual([405, 'UNSUPPORTED']);
  });
  it('a client that goes away in the middle of a PATCH: one log line, no stack trace, the session still answers', async () => {
    const post = await call(reg.url, 'POST', '/v2/keep/blobs/uploads/');
    const loc = new URL(location(reg.url, post));
    const sock = connect(reg.port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
    sock.write(`PATCH ${loc.pathname} HTTP/1.1\r\nHost: ${reg.host}\r\nContent-Type: application/octet-stream\r\nContent-Length: 200000\r\nContent-Range: 0-199999\r\n\r\n`);
    await new Promise<void>((resolve) => sock.write(Buffer.alloc(70_000), () => resolve()));
    const uuid = loc.pathname.split('/').at(-1) ?? '';
    // The server logs the disconnect once it has read what was sent; only then is the socket cut.
    await waitUntil('the server did not store the first bytes of the PATCH', async () => {
      const st = await call(reg.url, 'GET', loc.pathname);
      return (st.status === 204 && st.headers.get('range') !== '0-0') || undefined;
    });
    sock.destroy();
    const line = await waitUntil('no disconnect line', () => reg.log().split('\n').find((l) => l.includes('client disconnected during PATCH') && l.includes(uuid)));
    expect(line).toContain(uuid);
    expect(reg.log()).not.toMatch(/^\s+at /m);
    expect(reg.log()).not.toContain('error: Error');
    const status = await call(reg.url, 'GET', loc.pathname);
    expect(status.status).toBe(204);
    expect(status.headers.get('range')).toMatch(/^0-\d+$/);
  });
});
