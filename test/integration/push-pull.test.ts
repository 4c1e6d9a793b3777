// push and pull against a real registry (docker-registry, or the built-in one in the
// builtin-registry project), with skopeo as the independent peer: what ts-docker pushes skopeo
// reads, what skopeo pushes ts-docker pulls, digests survive the trip.
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURE, FIXTURE_REF, expectOneLineError, idFromStore, lines, loadFixture, makeRoot, makeSandbox, manifestDigestFromStore, namesInStore, parseTable, readIndex, short } from '../helpers/cli.js';
import { isUpload } from '../helpers/fault-proxy.js';
import { describeStored, makeImage } from '../helpers/images.js';
import { checkLayout, layersOf } from '../helpers/layout.js';
import { useRegistryWithProxy } from '../helpers/registry-suite.js';
import { id12, parsePull, parsePush, show, tsd } from '../helpers/remote-cli.js';
import { skopeoInspect, skopeoOk, skopeoRawManifest } from '../helpers/skopeo.js';

/** Image names go straight to the registry; `env.proxy` is a plain counting proxy (no faults) in front of it. */
const env = useRegistryWithProxy({ hostOf: 'registry' });

const sha256 = (s: string | Buffer): string => `sha256:${createHash('sha256').update(s).digest('hex')}`;

/** Loads the fixture, tags it `name`, pushes it; returns the root, the image ID and the push result. */
async function pushFixture(name: string, extra: string[] = []): Promise<{ root: string; id: string; r: Awaited<ReturnType<typeof tsd>> }> {
  const root = await makeRoot();
  const id = await loadFixture(root);
  const t = await tsd(['tag', 'apa000ex22', name], { root });
  expect(t.code, show(t)).toBe(0);
  const r = await tsd(['push', ...extra, name], { root });
  expect(r.code, show(r)).toBe(0);
  return { root, id, r };
}

describe('push', () => {
  it('pushes the fixture with docker\'s lines; skopeo inspect shows the printed digest; pull brings back the same IMAGE ID', async () => {
    const name = `${env.host}/nyapacchi:13`;
    const { root, id, r } = await pushFixture(name);
    const out = parsePush(r.stdout);
    expect(lines(r.stdout)[0]).toBe(`The push refers to repository [${env.host}/nyapacchi]`);
    const layers = await layersOf(root, FIXTURE_REF);
    expect(out.layers).toEqual(Object.fromEntries(layers.map((l) => [id12(l.digest), 'Pushed'])));
    const manifestDigest = await manifestDigestFromStore(root, FIXTURE_REF);
    const manifestSize = (await readFile(join(root, 'blobs', 'sha256', manifestDigest.slice(7)))).length;
    expect(out.digests).toEqual([{ tag: '13', digest: manifestDigest, size: manifestSize }]);
    expect(lines(r.stdout).at(-1)).toBe(`13: digest: ${manifestDigest} size: ${manifestSize}`);

    // skopeo, independently: the registry serves the manifest under the printed digest.
    const info = await skopeoInspect(`docker://${name}`);
    expect(info.Digest).toBe(manifestDigest);
    expect(info.Layers).toEqual(layers.map((l) => l.digest));
    expect(sha256(await skopeoRawManifest(`docker://${name}`))).toBe(manifestDigest);

    // rmi both names, pull it back.
    const rmi = await tsd(['rmi', name, 'apa000ex22'], { root });
    expect(rmi.code, show(rmi)).toBe(0);
    expect((await readIndex(root)).manifests).toEqual([]);
    const p = await tsd(['pull', name], { root });
    expect(p.code, show(p)).toBe(0);
    const po = parsePull(p.stdout);
    expect(lines(p.stdout)[0]).toBe('13: Pulling from nyapacchi');
    expect(po.layers).toEqual(Object.fromEntries(layers.map((l) => [id12(l.digest), 'Pull complete'])));
    expect(po.digests).toEqual([manifestDigest]);
    expect(po.statuses).toEqual([`Downloaded newer image for ${name}`]);
    expect(po.last).toBe(name);
    expect(await idFromStore(root, name)).toBe(id);
    expect(await manifestDigestFromStore(root, name)).toBe(manifestDigest);
    expect(await checkLayout(root)).toMatchObject({ missing: [], corrupt: [], unreferenced: [] });
    // Nothing of the downloads is left in ingest/ (no partial file, no owner mark: a dangling link
    // there makes oci-image-tool, which walks the whole layout, fail on the store).
    expect(await readdir(join(root, 'ingest', 'partial')).catch(() => [])).toEqual([]);
    const images = parseTable((await tsd(['images'], { root })).stdout);
    expect(images.rows.map((row) => row.slice(0, 3))).toEqual([[`${env.host}/nyapacchi`, '13', short(id)]]);

    // Pulling again: nothing to do.
    const again = await tsd(['pull', name], { root });
    expect(again.code, show(again)).toBe(0);
    expect(parsePull(again.stdout).statuses).toEqual([`Image is up to date for ${name}`]);
    expect(lines(again.stdout).at(-1)).toBe(name);

    // skopeo pulls what we pushed into an OCI layout, verifying every digest.
    const dir = await makeSandbox();
    await skopeoOk(['copy', `docker://${name}`, `oci:${dir}/layout:x`]);
    const viaSkopeo = JSON.parse(await readFile(join(dir, 'layout', 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
    expect(viaSkopeo.manifests[0]!.digest).toBe(manifestDigest);
  });

  it('-q prints only the reference', async () => {
    const name = `${env.host}/quiet:1`;
    const { r } = await pushFixture(name, ['-q']);
    expect(r.stdout).toBe(`${name}\n`);
    expect((await skopeoInspect(`docker://${name}`)).Digest).toMatch(/^sha256:/);
  });

  it('--progress json prints one JSON event per line, with layer statuses and the digest last', async () => {
    const name = `${env.host}/jsonprogress:7`;
    const { root, r } = await pushFixture(name, ['--progress', 'json']);
    const events = lines(r.stdout).map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const e of events) expect(typeof e['type']).toBe('string');
    const layers = await layersOf(root, FIXTURE_REF);
    // Typed states, not docker's words: the CLI's plain and tty modes alone say "Pushed".
    for (const l of layers) expect(events).toContainEqual(expect.objectContaining({ type: 'blob', id: id12(l.digest), digest: l.digest, state: 'done' }));
    expect(events).toContainEqual(expect.objectContaining({ type: 'blob', state: 'transferring', current: expect.any(Number) as number, total: expect.any(Number) as number }));
    expect(events[0]).toEqual({ type: 'push-start', repository: `${env.host}/jsonprogress` });
    const digest = await manifestDigestFromStore(root, FIXTURE_REF);
    expect(events.at(-1)).toMatchObject({ type: 'pushed', tag: '7', digest, size: expect.any(Number) as number });
  });

  it('a multi-layer image with --max-concurrent-uploads 2, and back with --max-concurrent-downloads 1', async () => {
    const root = await makeRoot();
    const name = `${env.host}/layered:3`;
    const img = await makeImage(root, name, [
      { sizeMiB: 1, seed: 301 },
      { sizeMiB: 2, seed: 302 },
      { sizeMiB: 0.5, seed: 303 },
      { sizeMiB: 0.25, seed: 304 },
    ]);
    const r = await tsd(['push', '--max-concurrent-uploads', '2', name], { root });
    expect(r.code, show(r)).toBe(0);
    const out = parsePush(r.stdout);
    expect(out.layers).toEqual(Object.fromEntries(img.layers.map((l) => [id12(l.digest), 'Pushed'])));
    expect(out.digests).toEqual([{ tag: '3', digest: img.manifestDigest, size: expect.any(Number) as number }]);
    const info = await skopeoInspect(`docker://${name}`);
    expect(info.Layers).toEqual(img.layers.map((l) => l.digest));

    const other = await makeRoot();
    const p = await tsd(['pull', '--max-concurrent-downloads', '1', name], { root: other });
    expect(p.code, show(p)).toBe(0);
    expect(Object.keys(parsePull(p.stdout).layers).sort()).toEqual(img.layers.map((l) => id12(l.digest)).sort());
    expect((await describeStored(other, name)).id).toBe(img.id);
    expect(await checkLayout(other)).toMatchObject({ missing: [], corrupt: [], unreferenced: [] });
  });

  it('pull of three 16 MiB layers one after another: each hashed on the worker thread as it arrives, all verified', async () => {
    // From 16 MiB on, a layer's SHA-256 is computed by a worker thread reading the partial file
    // behind the writer (store/file-hash.ts); one download at a time, each job reaches a worker
    // that is already running.
    const root = await makeRoot();
    const name = `${env.host}/big-layers:1`;
    const img = await makeImage(root, name, [{ sizeMiB: 16, seed: 311 }, { sizeMiB: 16, seed: 312 }, { sizeMiB: 16, seed: 313 }]);
    expect((await tsd(['push', name], { root })).code).toBe(0);
    const other = await makeRoot();
    const p = await tsd(['pull', '--max-concurrent-downloads', '1', name], { root: other });
    expect(p.code, show(p)).toBe(0);
    expect(parsePull(p.stdout).layers).toEqual(Object.fromEntries(img.layers.map((l) => [id12(l.digest), 'Pull complete'])));
    expect((await describeStored(other, name)).id).toBe(img.id);
    expect(await checkLayout(other)).toMatchObject({ missing: [], corrupt: [], unreferenced: [] });
  });

  it('re-push prints "Layer already exists" for every layer and uploads no blob (proxy sees no upload request)', async () => {
    const name = `${env.host}/again:1`;
    const { root } = await pushFixture(name);
    const viaProxy = `${env.proxy.host}/again:1`;
    const t = await tsd(['tag', name, viaProxy], { root });
    expect(t.code, show(t)).toBe(0);
    env.proxy.resetStats();
    const r = await tsd(['push', viaProxy], { root });
    expect(r.code, show(r)).toBe(0);
    const layers = await layersOf(root, FIXTURE_REF);
    expect(parsePush(r.stdout).layers).toEqual(Object.fromEntries(layers.map((l) => [id12(l.digest), 'Layer already exists'])));
    const uploads = env.proxy.stats().requests.filter((q) => isUpload({ method: q.method, url: q.url, path: q.path, headers: {} }));
    expect(uploads.map((q) => `${q.method} ${q.path}`)).toEqual([]);
    expect(env.proxy.stats().requests.filter((q) => q.method === 'PATCH' || (q.method === 'PUT' && q.path.includes('/blobs/')))).toEqual([]);
  });

  it('-a pushes every tag of the repository; pull -a brings them all back', async () => {
    const root = await makeRoot();
    const one = await makeImage(root, `${env.host}/twotags:1`, [{ sizeMiB: 0.2, seed: 501 }]);
    const two = await makeImage(root, `${env.host}/twotags:2`, [{ sizeMiB: 0.3, seed: 502 }]);
    // A name in another repository must not be pushed.
    await makeImage(root, `${env.host}/elsewhere:1`, [{ sizeMiB: 0.1, seed: 503 }]);
    const r = await tsd(['push', '-a', `${env.host}/twotags`], { root });
    expect(r.code, show(r)).toBe(0);
    const out = parsePush(r.stdout);
    expect(out.digests.map((d) => [d.tag, d.digest]).sort()).toEqual([
      ['1', one.manifestDigest],
      ['2', two.manifestDigest],
    ]);
    const tags = JSON.parse((await skopeoOk(['list-tags', `docker://${env.host}/twotags`])).stdout) as { Tags: string[] };
    expect(tags.Tags.sort()).toEqual(['1', '2']);
    const notPushed = await skopeoOk(['list-tags', `docker://${env.host}/elsewhere`]).then(
      () => 'pushed',
      () => 'absent',
    );
    expect(notPushed).toBe('absent');

    const other = await makeRoot();
    const p = await tsd(['pull', '-a', `${env.host}/twotags`], { root: other });
    expect(p.code, show(p)).toBe(0);
    expect(parsePull(p.stdout).pulling.map((x) => x.tag).sort()).toEqual(['1', '2']);
    expect(lines(p.stdout).at(-1)).toBe(`${env.host}/twotags`);
    expect(await namesInStore(other)).toEqual([`${env.host}/twotags:1`, `${env.host}/twotags:2`]);
    expect(await idFromStore(other, `${env.host}/twotags:1`)).toBe(one.id);
    expect(await idFromStore(other, `${env.host}/twotags:2`)).toBe(two.id);
  });

  it('cross-repository mount: pulled from env.host/a:1, tagged env.host/b:1, pushed -> "Mounted from a"', async () => {
    const src = await makeRoot();
    const img = await makeImage(src, `${env.host}/a:1`, [
      { sizeMiB: 0.5, seed: 601 },
      { sizeMiB: 0.5, seed: 602 },
    ]);
    const pushed = await tsd(['push', `${env.host}/a:1`], { root: src });
    expect(pushed.code, show(pushed)).toBe(0);

    const root = await makeRoot();
    const p = await tsd(['pull', `${env.host}/a:1`], { root });
    expect(p.code, show(p)).toBe(0);
    const t = await tsd(['tag', `${env.host}/a:1`, `${env.host}/b:1`], { root });
    expect(t.code, show(t)).toBe(0);
    const r = await tsd(['push', `${env.host}/b:1`], { root });
    expect(r.code, show(r)).toBe(0);
    expect(parsePush(r.stdout).layers).toEqual(Object.fromEntries(img.layers.map((l) => [id12(l.digest), 'Mounted from a'])));
    const info = await skopeoInspect(`docker://${env.host}/b:1`);
    expect(info.Digest).toBe(img.manifestDigest);
    expect(info.Layers).toEqual(img.layers.map((l) => l.digest));
  });

  it('localhost:PORT names are plain HTTP by default too (no --insecure-registry)', async () => {
    const name = `localhost:${env.reg.port}/viahostname:1`;
    const { root, r } = await pushFixture(name);
    expect(lines(r.stdout)[0]).toBe(`The push refers to repository [localhost:${env.reg.port}/viahostname]`);
    const digest = parsePush(r.stdout).digests[0]?.digest;
    expect(digest).toBe(await manifestDigestFromStore(root, FIXTURE_REF));
    expect((await skopeoInspect(`docker://${env.host}/viahostname:1`)).Digest).toBe(digest);
    const other = await makeRoot();
    const p = await tsd(['pull', name], { root: other });
    expect(p.code, show(p)).toBe(0);
    expect(lines(p.stdout).at(-1)).toBe(name);
  });

  it('an unknown tag fails with docker\'s one-line error', async () => {
    const root = await makeRoot();
    const r = await tsd(['pull', `${env.host}/nyapacchi:no-such-tag`], { root });
    expectOneLineError(r, 'manifest unknown');
    expect(await namesInStore(root)).toEqual([]);
  });
});

describe('pull', () => {
  it('pulls an image skopeo pushed (docker-archive -> registry); same IMAGE ID as loading the archive', async () => {
    const name = `${env.host}/fromskopeo:1`;
    await skopeoOk(['copy', `docker-archive:${FIXTURE}`, `docker://${name}`]);
    const info = await skopeoInspect(`docker://${name}`);
    const loaded = await makeRoot();
    const id = await loadFixture(loaded);

    const root = await makeRoot();
    const p = await tsd(['pull', name], { root });
    expect(p.code, show(p)).toBe(0);
    const po = parsePull(p.stdout);
    expect(po.pulling).toEqual([{ tag: '1', repo: 'fromskopeo' }]);
    expect(po.layers).toEqual(Object.fromEntries(info.Layers.map((l) => [id12(l), 'Pull complete'])));
    expect(po.digests).toEqual([info.Digest]);
    expect(po.statuses).toEqual([`Downloaded newer image for ${name}`]);
    expect(po.last).toBe(name);
    expect(await idFromStore(root, name)).toBe(id);
    expect(await manifestDigestFromStore(root, name)).toBe(info.Digest);
    expect(await checkLayout(root)).toMatchObject({ missing: [], corrupt: [], unreferenced: [] });
  });

  it('-q prints only the name', async () => {
    const name = `${env.host}/fromskopeo-q:1`;
    await skopeoOk(['copy', `docker-archive:${FIXTURE}`, `docker://${name}`]);
    const root = await makeRoot();
    const p = await tsd(['pull', '-q', name], { root });
    expect(p.code, show(p)).toBe(0);
    expect(p.stdout).toBe(`${name}\n`);
  });

  it('by digest: NAME@sha256:... brings the exact manifest', async () => {
    const name = `${env.host}/bydigest:1`;
    const { id } = await pushFixture(name);
    const digest = (await skopeoInspect(`docker://${name}`)).Digest;
    const root = await makeRoot();
    const ref = `${env.host}/bydigest@${digest}`;
    const p = await tsd(['pull', ref], { root });
    expect(p.code, show(p)).toBe(0);
    expect(parsePull(p.stdout).digests).toEqual([digest]);
    expect(lines(p.stdout).at(-1)).toBe(ref);
    const entries = (await readIndex(root)).manifests ?? [];
    expect(entries.map((e) => e.digest)).toContain(digest);
    expect(await checkLayout(root)).toMatchObject({ missing: [], corrupt: [], unreferenced: [] });
    const inspect = await tsd(['inspect', ref], { root });
    expect(inspect.code, show(inspect)).toBe(0);
    expect((JSON.parse(inspect.stdout) as Array<{ Id: string }>)[0]!.Id).toBe(id);
  });
});
