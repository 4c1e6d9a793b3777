// Issue 12 items 6 and 7: a registry (or an archive) cannot brick the store. Every manifest,
// index and config is validated (JSON, schema, media types, one diff_id per layer) before
// anything names it, and the manifest's body, not the HTTP Content-Type, decides its media type.
// Each refusal: one line on stderr, exit 1, nothing raw, the store byte-for-byte as it was; a
// valid pull afterwards works and skopeo reads the store.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fileEntry, packTar } from '../helpers/archive.js';
import { expectOneLineError, makeRoot, makeSandbox, runCli, snapshotStore as snapshotTree } from '../helpers/cli.js';
import type { Handler, Hostile, TestImage } from '../helpers/hostile-registry.js';
import { NASTY, hasRawControl, makeTestImage, sha256, startHostile, tarOf } from '../helpers/hostile-registry.js';
import { show, tsd } from '../helpers/remote-cli.js';
import { skopeoInspect } from '../helpers/skopeo.js';

let h: Hostile;
beforeAll(async () => {
  h = await startHostile();
});

let n = 0;
/** A fresh repository name for one test. */
const repo = (what: string): string => `bad/${what}-${++n}`;

/** A store that already holds an image, to check it is left as it was. */
async function storeWithImage(): Promise<string> {
  const root = await makeRoot();
  const r = await tsd(['pull', `${h.host}/base:1`], { root });
  expect(r.code, show(r)).toBe(0);
  return root;
}

/** Pulls `name` into a store holding an image: refused with `text`, the store unchanged; then a valid pull works and skopeo reads the store. */
async function expectRefused(name: string, text: string): Promise<void> {
  const root = await storeWithImage();
  const before = await snapshotTree(root);
  const r = await tsd(['pull', name], { root });
  expectOneLineError(r, text);
  expect(hasRawControl(r.stderr), `raw control characters on stderr: ${JSON.stringify(r.stderr)}`).toBe(false);
  expect(r.stdout).not.toContain('Status: Downloaded');
  expect(await snapshotTree(root), 'the store is byte-for-byte as it was').toEqual(before);
  const good = `${h.host}/good/after-${n}:1`;
  const ok = await tsd(['pull', good], { root });
  expect(ok.code, show(ok)).toBe(0);
  const info = await skopeoInspect(`oci:${root}:${good}`);
  expect(info.Layers).toHaveLength(1);
  expect((await runCli(['images'], { root })).code).toBe(0);
}

/** Serves `image` under a new repository and pulls it, expecting `text`. */
async function refusedImage(what: string, image: TestImage, text: string): Promise<void> {
  const r = repo(what);
  h.setImage(r, image);
  await expectRefused(`${h.host}/${r}:1`, text);
}

/** Serves manifest `body` with `contentType` for every tag of a new repository (blobs from the default image). */
function serveManifest(r: string, body: Buffer, contentType: string): void {
  const handler: Handler = (req, res, info) => {
    if (info.kind !== 'manifests') return false;
    if (info.ref.startsWith('sha256:') && info.ref !== sha256(body)) return false;
    res.writeHead(200, { 'content-type': contentType, 'docker-content-digest': sha256(body), 'content-length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
  h.on(r, handler);
}

describe('pull refuses a bad config before anything is named', () => {
  it('a config that is not JSON', async () => {
    await refusedImage('config-not-json', makeTestImage({ configBytes: Buffer.from('this is {not JSON') }), 'invalid image config: not JSON');
  });

  it('a config that is JSON without rootfs', async () => {
    await refusedImage('config-no-rootfs', makeTestImage({ editConfig: (c) => delete c['rootfs'] }), 'invalid rootfs in image configuration');
  });

  it('a config whose rootfs.type is not "layers"', async () => {
    await refusedImage('config-rootfs-type', makeTestImage({ editConfig: (c) => ((c['rootfs'] as Record<string, unknown>)['type'] = 'tarballs') }), 'invalid rootfs in image configuration');
  });

  it('a config without architecture', async () => {
    await refusedImage('config-no-arch', makeTestImage({ editConfig: (c) => delete c['architecture'] }), 'invalid image config: architecture and os must be strings');
  });

  it('a config whose diff_ids count is not the layer count', async () => {
    const image = makeTestImage({ editConfig: (c) => (c['rootfs'] as { diff_ids: string[] }).diff_ids.push(sha256('an extra layer')) });
    await refusedImage('diff-ids-count', image, "layers from manifest don't match image configuration: the manifest has 1 layers, rootfs.diff_ids 2");
    // Only the manifest and the config were asked for: no layer moved.
    const gets = h.requests.filter((q) => q.path.startsWith(`/v2/bad/diff-ids-count-${n}/blobs/`));
    expect(gets.map((q) => q.path.split('/').pop())).toEqual([image.config.digest]);
  });
});

describe('pull refuses a bad manifest or index', () => {
  it('a manifest that is not JSON', async () => {
    const r = repo('manifest-not-json');
    serveManifest(r, Buffer.from('<html>not a manifest</html>'), 'application/vnd.oci.image.manifest.v1+json');
    await expectRefused(`${h.host}/${r}:1`, 'invalid manifest: not JSON');
  });

  it('a manifest with schemaVersion 1', async () => {
    await refusedImage('schema1', makeTestImage({ editManifest: (m) => (m['schemaVersion'] = 1) }), 'invalid manifest: unsupported schemaVersion');
  });

  it('a manifest with a bad layer descriptor', async () => {
    const image = makeTestImage({ editManifest: (m) => ((m['layers'] as Array<Record<string, unknown>>)[0]!['digest'] = 'sha256:not-hex') });
    await refusedImage('bad-descriptor', image, 'invalid descriptor in manifest layers[0]: digest is not sha256:<64 hex>');
  });

  it('a manifest whose config descriptor has a negative size', async () => {
    const image = makeTestImage({ editManifest: (m) => ((m['config'] as Record<string, unknown>)['size'] = -1) });
    await refusedImage('bad-size', image, 'invalid descriptor in manifest config: size is not a non-negative integer');
  });

  it('a layer media type with control characters is refused and shown escaped', async () => {
    const image = makeTestImage({ editManifest: (m) => ((m['layers'] as Array<Record<string, unknown>>)[0]!['mediaType'] = `application/x${NASTY}`) });
    await refusedImage('nasty-type', image, 'invalid descriptor in manifest layers[0]: media type "application/x\\x00\\x1b[31mRED');
  });

  it('an index whose entry is not a manifest type', async () => {
    const base = makeTestImage();
    const r = repo('index-bad-entry');
    const index = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: base.manifestDigest, size: base.manifest.length, platform: { architecture: 'amd64', os: 'linux' } }],
    }));
    serveManifest(r, index, 'application/vnd.oci.image.index.v1+json');
    await expectRefused(`${h.host}/${r}:1`, 'invalid index: manifests[0] has media type application/vnd.oci.image.layer.v1.tar+gzip, not an image manifest or index');
  });

  it('a document that is both an index and a manifest', async () => {
    const image = makeTestImage({ editManifest: (m) => (m['manifests'] = []) });
    await refusedImage('both', image, 'invalid manifest: it has both manifests and config/layers');
  });
});

describe('the body decides the media type, not Content-Type', () => {
  it('a Content-Type lie (the body says OCI manifest, the header Docker manifest list) is an error', async () => {
    const image = makeTestImage();
    const r = repo('content-type-lie');
    serveManifest(r, image.manifest, 'application/vnd.docker.distribution.manifest.list.v2+json');
    await expectRefused(`${h.host}/${r}:1`,
      'manifest media type mismatch: registry said application/vnd.docker.distribution.manifest.list.v2+json, the manifest says application/vnd.oci.image.manifest.v1+json');
  });

  it('an index entry that says Docker manifest for an OCI manifest body is an error', async () => {
    const base = makeTestImage();
    const r = repo('index-lie');
    const index = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: base.manifestDigest, size: base.manifest.length, platform: { architecture: process.arch === 'arm64' ? 'arm64' : 'amd64', os: 'linux' } }],
    }));
    serveManifest(r, index, 'application/vnd.oci.image.index.v1+json');
    await expectRefused(`${h.host}/${r}:1`,
      'manifest media type mismatch: the index said application/vnd.docker.distribution.manifest.v2+json, the manifest says application/vnd.oci.image.manifest.v1+json');
  });

  it('a manifest without mediaType served as application/json is stored as an OCI manifest that skopeo reads', async () => {
    const image = makeTestImage({ editManifest: (m) => delete m['mediaType'] });
    const r = repo('no-media-type');
    serveManifest(r, image.manifest, 'application/json');
    const root = await makeRoot();
    const name = `${h.host}/${r}:1`;
    const res = await tsd(['pull', name], { root });
    expect(res.code, show(res)).toBe(0);
    const index = JSON.parse((await import('node:fs')).readFileSync(join(root, 'index.json'), 'utf8')) as { manifests: Array<{ mediaType: string }> };
    expect(index.manifests.map((m) => m.mediaType)).toEqual(['application/vnd.oci.image.manifest.v1+json']);
    expect((await skopeoInspect(`oci:${root}:${name}`)).Layers).toEqual([image.layers[0]!.digest]);
  });

  it('a Docker manifest served with a generic Content-Type is stored with the type its body states (Docker)', async () => {
    const image = makeTestImage({ flavour: 'docker' });
    const r = repo('docker-generic');
    serveManifest(r, image.manifest, 'text/plain; charset=utf-8');
    const root = await makeRoot();
    const name = `${h.host}/${r}:1`;
    const res = await tsd(['pull', name], { root });
    expect(res.code, show(res)).toBe(0);
    const index = JSON.parse((await import('node:fs')).readFileSync(join(root, 'index.json'), 'utf8')) as { manifests: Array<{ mediaType: string }> };
    expect(index.manifests.map((m) => m.mediaType)).toEqual(['application/vnd.docker.distribution.manifest.v2+json']);
    // (skopeo 1.9's oci: transport lists only OCI-typed entries of index.json, so it is not asked here.)
    expect((await runCli(['images'], { root })).stdout).toContain(`${h.host}/${r}`);
  });
});

describe('load validates the same way', () => {
  /** A docker-archive whose config is `config` (one layer). */
  async function archiveWith(config: Buffer): Promise<string> {
    const tar = tarOf('hello.txt', Buffer.from('hello\n'));
    const cfgName = `${sha256(config).slice(7)}.json`;
    const bytes = await packTar([
      fileEntry('manifest.json', JSON.stringify([{ Config: cfgName, RepoTags: ['bad/load:1'], Layers: ['layer.tar'] }])),
      fileEntry(cfgName, config),
      fileEntry('layer.tar', tar),
    ]);
    const path = join(await makeSandbox(), 'bad.tar');
    await writeFile(path, bytes);
    return path;
  }

  it('an archive whose config is not JSON is refused, the store unchanged', async () => {
    const root = await storeWithImage();
    const before = await snapshotTree(root);
    const r = await runCli(['load', '-i', await archiveWith(Buffer.from('not {json'))], { root });
    expectOneLineError(r, 'invalid image config: not JSON');
    expect(await snapshotTree(root)).toEqual(before);
  });

  it('an archive whose config lists two diff_ids for one layer is refused, the store unchanged', async () => {
    const root = await storeWithImage();
    const before = await snapshotTree(root);
    const tar = tarOf('hello.txt', Buffer.from('hello\n'));
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(tar), sha256('x')] } }));
    const r = await runCli(['load', '-i', await archiveWith(config)], { root });
    expectOneLineError(r, "layers from manifest don't match image configuration");
    expect(await snapshotTree(root)).toEqual(before);
  });
});
