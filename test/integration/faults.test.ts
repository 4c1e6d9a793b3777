// A bad network between ts-docker and a real registry (docker-registry, or the built-in one in
// the builtin-registry project) through the fault proxy: a reset in the
// middle of an upload chunk or a download, a 503 with Retry-After; each command still
// succeeds, says it is retrying, and sends or receives well under two copies. A corrupted
// download fails with docker's verification error and leaves the store consistent.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectOneLineError, makeRoot, makeSandbox, namesInStore } from '../helpers/cli.js';
import type { Match } from '../helpers/fault-proxy.js';
import { blobGets, isBlobGet, isUploadPatch, uploadBodies } from '../helpers/fault-proxy.js';
import type { MadeImage } from '../helpers/images.js';
import { describeStored, makeImage, storeProblems } from '../helpers/images.js';
import { checkLayout } from '../helpers/layout.js';
import { useRegistryWithProxy } from '../helpers/registry-suite.js';
import { RETRYING, id12, parsePull, parsePush, show, tsd } from '../helpers/remote-cli.js';
import { skopeoInspect, skopeoOk } from '../helpers/skopeo.js';

const MiB = 1024 * 1024;
const SLACK = 1.6;

/** Image names go through the proxy (`env.host`). */
const env = useRegistryWithProxy();

/** Requests for this blob's bytes. */
const blobOf = (digest: string): Match => (r) => isBlobGet(r) && r.path.endsWith(`/blobs/${digest}`);

/** The blob the registry stores under `digest` hashes to it (read from its filesystem storage). */
async function registryBlobOk(digest: string): Promise<void> {
  const data = await readFile(env.reg.blobFile(digest));
  expect(`sha256:${createHash('sha256').update(data).digest('hex')}`).toBe(digest);
}

/** Pushes a fresh image straight to the registry (no proxy) and returns it with its name through the proxy. */
async function imageInRegistry(repo: string, seed: number, sizeMiB: number): Promise<{ img: MadeImage; viaProxy: string }> {
  const root = await makeRoot();
  const direct = `${env.reg.host}/${repo}:1`;
  const img = await makeImage(root, direct, [{ sizeMiB, seed }]);
  const r = await tsd(['push', direct], { root });
  expect(r.code, show(r)).toBe(0);
  return { img, viaProxy: `${env.host}/${repo}:1` };
}

/** Sum of the blob sizes a pull of `img` must download (config + layers). */
async function blobTotal(root: string, img: MadeImage): Promise<number> {
  const config = (await readFile(join(root, 'blobs', 'sha256', img.id.slice(7)))).length;
  return config + img.layers.reduce((s, l) => s + l.size, 0);
}

describe('push through a bad network', () => {
  it('a connection reset in the middle of a PATCH: retried, succeeds, well under 1.6 copies sent', async () => {
    const root = await makeRoot();
    const name = `${env.host}/reset-patch:1`;
    const img = await makeImage(root, name, [{ sizeMiB: 8, seed: 7001 }]);
    const layer = img.layers[0]!;
    // The second 2 MiB chunk is cut after 1 MiB. The registry has then received 3 MiB of the
    // session, not the 2 its state says: docker-registry 2.8.2 cancels such a session on the next
    // request ("upload resumed at wrong offest"), so the client must start the blob over; the
    // built-in registry keeps the bytes that arrived (its Range then ends past 2 MiB), so the client
    // resyncs and goes on. Either way: retried, pushed, well under 1.6 copies.
    let seen = 0;
    env.proxy.setRules({ resetRequest: { afterBytes: MiB, match: (r) => isUploadPatch(r) && ++seen === 2 } });
    const r = await tsd(['push', '--chunk-size', '2m', name], { root });
    expect(r.code, show(r)).toBe(0);
    const stats = env.proxy.stats();
    expect(stats.faults, 'the fault fired').toHaveLength(1);
    expect(r.stdout + r.stderr).toMatch(RETRYING);
    const out = parsePush(r.stdout);
    expect(out.layers).toEqual({ [id12(layer.digest)]: 'Pushed' });
    expect(out.digests[0]?.digest).toBe(img.manifestDigest);
    expect(stats.requestBytes(uploadBodies)).toBeGreaterThanOrEqual(layer.size);
    expect(stats.requestBytes(uploadBodies)).toBeLessThan(SLACK * layer.size);
    expect((await skopeoInspect(`docker://${name}`)).Digest).toBe(img.manifestDigest);
    await registryBlobOk(layer.digest);
  });

  it('a reset in the middle of a PATCH behind a store-and-forward proxy: resumes in the same session, resends only that chunk', async () => {
    const root = await makeRoot();
    const name = `${env.host}/reset-buffered:1`;
    const img = await makeImage(root, name, [{ sizeMiB: 8, seed: 7003 }]);
    const layer = img.layers[0]!;
    let seen = 0;
    env.proxy.setRules({ bufferRequests: {}, resetRequest: { afterBytes: MiB, match: (r) => isUploadPatch(r) && ++seen === 3 } });
    const r = await tsd(['push', '--chunk-size', '2m', name], { root });
    expect(r.code, show(r)).toBe(0);
    const stats = env.proxy.stats();
    expect(stats.faults).toHaveLength(1);
    expect(r.stdout + r.stderr).toMatch(RETRYING);
    // Every byte of the layer reached the registry exactly once, in one upload session.
    const sessions = new Set(stats.requests.filter((q) => q.method === 'PATCH').map((q) => q.path));
    expect(sessions.size, [...sessions].join('\n')).toBe(1);
    const [session] = [...sessions];
    const layerBodies = (q: { method: string; path: string }): boolean => q.path === session && (q.method === 'PATCH' || q.method === 'PUT');
    expect(stats.requestBytes(layerBodies)).toBe(layer.size);
    expect(stats.receivedBytes(layerBodies)).toBe(layer.size + MiB);
    expect(parsePush(r.stdout).digests[0]?.digest).toBe(img.manifestDigest);
    await registryBlobOk(layer.digest);
  });

  it('503 with Retry-After on upload chunks: waits, retries, succeeds', async () => {
    const root = await makeRoot();
    const name = `${env.host}/busy-push:1`;
    const img = await makeImage(root, name, [{ sizeMiB: 3, seed: 7002 }]);
    const layer = img.layers[0]!;
    env.proxy.setRules({ unavailable: { count: 2, match: isUploadPatch } });
    const r = await tsd(['push', '--chunk-size', '1m', name], { root });
    expect(r.code, show(r)).toBe(0);
    expect(env.proxy.stats().faults).toHaveLength(2);
    expect(r.stdout + r.stderr).toMatch(RETRYING);
    expect(r.stdout + r.stderr).toMatch(/Retrying in 1 second/);
    expect(parsePush(r.stdout).digests[0]?.digest).toBe(img.manifestDigest);
    expect(env.proxy.stats().requestBytes(uploadBodies)).toBeLessThan(SLACK * layer.size);
    expect((await skopeoInspect(`docker://${name}`)).Layers).toEqual([layer.digest]);
    await registryBlobOk(layer.digest);
  });
});

describe('pull through a bad network', () => {
  // 8 MiB is hashed inline as it arrives, 24 MiB on the hashing worker thread (store/file-hash.ts).
  for (const [mib, seed] of [[8, 7101], [24, 7111]] as const) {
    it(`a connection reset in the middle of a ${mib} MiB blob GET: retried, succeeds, well under 1.6 copies received`, async () => {
      const { img, viaProxy } = await imageInRegistry(`reset-get-${mib}`, seed, mib);
      const layer = img.layers[0]!;
      env.proxy.setRules({ resetResponse: { afterBytes: Math.floor(layer.size / 2), match: blobOf(layer.digest) } });
      const root = await makeRoot();
      const r = await tsd(['pull', viaProxy], { root });
      expect(r.code, show(r)).toBe(0);
      const stats = env.proxy.stats();
      expect(stats.faults).toHaveLength(1);
      expect(r.stdout + r.stderr).toMatch(RETRYING);
      expect(parsePull(r.stdout).layers).toEqual({ [id12(layer.digest)]: 'Pull complete' });
      expect((await describeStored(root, viaProxy)).id).toBe(img.id);
      expect(await checkLayout(root)).toMatchObject({ missing: [], corrupt: [], unreferenced: [] });
      const total = await blobTotal(root, img);
      expect(stats.responseBytes(blobGets)).toBeGreaterThanOrEqual(total);
      expect(stats.responseBytes(blobGets)).toBeLessThan(SLACK * total);
    });
  }

  it('503 with Retry-After on blob GETs: waits, retries, succeeds', async () => {
    const { img, viaProxy } = await imageInRegistry('busy-get', 7102, 2);
    env.proxy.setRules({ unavailable: { count: 2, match: isBlobGet } });
    const root = await makeRoot();
    const r = await tsd(['pull', viaProxy], { root });
    expect(r.code, show(r)).toBe(0);
    expect(env.proxy.stats().faults).toHaveLength(2);
    expect(r.stdout + r.stderr).toMatch(RETRYING);
    expect((await describeStored(root, viaProxy)).id).toBe(img.id);
    const total = await blobTotal(root, img);
    expect(env.proxy.stats().responseBytes(blobGets)).toBeLessThan(SLACK * total);
    expect(await checkLayout(root)).toMatchObject({ missing: [], corrupt: [], unreferenced: [] });
  });

  for (const [mib, seed] of [[2, 7103], [24, 7113]] as const) {
    it(`a corrupted ${mib} MiB layer download fails with docker's verification error and leaves the store consistent`, async () => {
      const { img, viaProxy } = await imageInRegistry(`corrupt-${mib}`, seed, mib);
      const layer = img.layers[0]!;
      // The store already holds another image: it must come out untouched.
      const root = await makeRoot();
      const bystander = await makeImage(root, 'bystander:1', [{ sizeMiB: 0.2, seed: 7104 }]);
      env.proxy.setRules({ corruptResponse: { match: blobOf(layer.digest) } });
      const r = await tsd(['pull', viaProxy], { root });
      expect(env.proxy.stats().faults).toHaveLength(1);
      expectOneLineError(r, `filesystem layer verification failed for digest ${layer.digest}`);
      expect(await storeProblems(root)).toEqual({ misnamedBlobs: [], missing: [], corrupt: [] });
      expect(await namesInStore(root)).toEqual([bystander.fullName]);
      expect((await describeStored(root, 'bystander:1')).id).toBe(bystander.id);

      // Without the fault, the same pull succeeds in the same store.
      env.proxy.setRules({});
      const again = await tsd(['pull', viaProxy], { root });
      expect(again.code, show(again)).toBe(0);
      expect((await describeStored(root, viaProxy)).id).toBe(img.id);
      expect(await checkLayout(root)).toMatchObject({ missing: [], corrupt: [], unreferenced: [] });
      // And skopeo, independently, finds the registry's copy intact.
      await skopeoOk(['copy', `docker://${env.reg.host}/corrupt-${mib}:1`, `oci:${await makeSandbox()}/check:x`]);
    });
  }
});
