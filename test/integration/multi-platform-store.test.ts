// Multi-platform images in the store (issue 13, item 2): a name points at the index, with the
// platforms pulled present and the others absent, as docker 29's containerd store keeps them.
// IMAGE ID of such an image = the index digest; a single-manifest image keeps its config digest.
import { cp, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, listBlobs, makeRoot, makeSandbox, parseTable, readIndex, requireTool, sh, short } from '../helpers/cli.js';
import type { MultiPlatformLayout } from '../helpers/images.js';
import { hostArch, makeMultiPlatformLayout } from '../helpers/images.js';
import { blobBytes, checkLayout } from '../helpers/layout.js';
import { useRegistry } from '../helpers/registry-suite.js';
import { parsePull, parsePush, show, tsd } from '../helpers/remote-cli.js';
import { skopeo, skopeoOk, skopeoRawManifest } from '../helpers/skopeo.js';
import { createHash } from 'node:crypto';

const env = useRegistry({ tools: ['skopeo'] });
let multi: MultiPlatformLayout;
let NAME: string;

beforeAll(async () => {
  const arch = hostArch();
  if (arch !== 'amd64' && arch !== 'arm64') throw new Error(`this suite needs an amd64 or arm64 machine, not ${arch}`);
  multi = await makeMultiPlatformLayout();
  NAME = `${env.host}/multistore:1`;
  await skopeoOk(['copy', '--all', multi.ociRef, `docker://${NAME}`]);
});

/** The image the machine does not run, and the one it does. */
const theirs = (): MultiPlatformLayout['amd64'] => (hostArch() === 'amd64' ? multi.arm64 : multi.amd64);
const mine = (): MultiPlatformLayout['amd64'] => (hostArch() === 'amd64' ? multi.amd64 : multi.arm64);
const platformOf = (img: MultiPlatformLayout['amd64']): string => `linux/${img.platform.architecture}`;

interface Inspected { Id: string; RepoTags: string[]; RepoDigests: string[]; Architecture: string; Os: string; Size: number; RootFS: { Layers: string[] }; Descriptor: { digest: string } }

async function inspectOne(root: string, name: string): Promise<Inspected> {
  const r = await tsd(['inspect', name], { root });
  expect(r.code, show(r)).toBe(0);
  return (JSON.parse(r.stdout) as Inspected[])[0]!;
}

async function ok(args: string[], root: string): Promise<string> {
  const r = await tsd(args, { root });
  expect(r.code, show(r)).toBe(0);
  return r.stdout;
}

/** `images --digests` rows: [REPOSITORY, TAG, DIGEST, IMAGE ID, ...]. */
async function digestRows(root: string): Promise<string[][]> {
  const { header, rows } = parseTable(await ok(['images', '--digests'], root));
  expect(header.slice(0, 4)).toEqual(['REPOSITORY', 'TAG', 'DIGEST', 'IMAGE ID']);
  return rows;
}

/** A store with `NAME` pulled for each platform given, in order. */
async function pulled(...platforms: string[]): Promise<string> {
  const root = await makeRoot();
  for (const p of platforms) {
    const out = parsePull(await ok(['pull', '--platform', p, NAME], root));
    expect(out.digests).toEqual([multi.indexDigest]);
  }
  return root;
}

describe('save of a multi-platform image', () => {
  it('with both platforms pulled: save --platform of one loads in skopeo (docker-archive:) as that one platform; save of the whole image keeps the index', async () => {
    const root = await pulled(platformOf(theirs()), platformOf(mine()));
    const dir = await makeSandbox();
    const one = join(dir, 'one.tar');
    await ok(['save', '--platform', platformOf(theirs()), '-o', one, NAME], root);
    const seen = JSON.parse((await skopeoOk(['inspect', `docker-archive:${one}`])).stdout) as { Architecture: string; Layers: string[] };
    expect(seen.Architecture).toBe(theirs().platform.architecture);
    expect(seen.Layers).toHaveLength(1);
    const whole = join(dir, 'whole.tar');
    await ok(['save', '-o', whole, NAME], root);
    const back = await makeRoot();
    await ok(['load', '-i', whole], back);
    expect((await readIndex(back)).manifests?.map((m) => m.digest)).toEqual([multi.indexDigest]);
    expect(await checkLayout(back)).toMatchObject({ missing: [], absent: [], corrupt: [], unreferenced: [] });
  });

  it('with one platform pulled: save names the platform that is missing (one line), save --platform of the present one works', async () => {
    const root = await pulled(platformOf(theirs()));
    const out = join(await makeSandbox(), 'x.tar');
    const r = await tsd(['save', '-o', out, NAME], { root });
    expectOneLineError(r, `has platforms that are not in the store: ${platformOf(mine())}; save one with --platform ${platformOf(theirs())}`);
    await ok(['save', '--platform', platformOf(theirs()), '-o', out, NAME], root);
    expect((JSON.parse((await skopeoOk(['inspect', `docker-archive:${out}`])).stdout) as { Architecture: string }).Architecture).toBe(theirs().platform.architecture);
  });
});

describe('pull of one platform, then another, of one index', () => {
  it('one name on the index; IMAGE ID and DIGEST are the index digest; the platform chosen is the one present', async () => {
    const root = await pulled(platformOf(theirs()));
    const index = await readIndex(root);
    expect(index.manifests?.map((m) => [m.digest, m.annotations?.['org.opencontainers.image.ref.name']])).toEqual([[multi.indexDigest, NAME]]);
    const rows = await digestRows(root);
    expect(rows.map((r) => r.slice(0, 4))).toEqual([[`${env.host}/multistore`, '1', multi.indexDigest, short(multi.indexDigest)]]);
    const blobs = await listBlobs(root);
    expect(blobs).toContain(theirs().layers[0]!.digest.slice(7));
    expect(blobs).not.toContain(mine().manifest.digest.slice(7));
    expect(blobs).not.toContain(mine().layers[0]!.digest.slice(7));
    // checkLayout walks every index child: the one platform not pulled is the only thing it misses.
    expect(await checkLayout(root)).toMatchObject({ missing: [], absent: [mine().manifest.digest], corrupt: [], unreferenced: [] });
    const info = await inspectOne(root, NAME);
    expect(info).toMatchObject({
      Id: multi.indexDigest, RepoDigests: [`${env.host}/multistore@${multi.indexDigest}`],
      Architecture: theirs().platform.architecture, Os: 'linux', Descriptor: { digest: multi.indexDigest },
    });
    expect(info.Size).toBe(await blobBytes(root));
  });

  it('pulling the other platform adds it to the same image: both present, this machine\'s chosen', async () => {
    const root = await pulled(platformOf(theirs()));
    const sizeOf = async (): Promise<string> => (await ok(['images', '--format', '{{.ID}} {{.Size}}'], root)).trim();
    const before = await sizeOf();
    expect(parsePull(await ok(['pull', '--platform', platformOf(mine()), NAME], root)).digests).toEqual([multi.indexDigest]);
    // The summaries sidecar (written by the first listing) must not keep the one-platform size.
    const after = await sizeOf();
    expect(after).not.toBe(before);
    await rm(join(root, 'cache'), { recursive: true, force: true });
    expect(await sizeOf()).toBe(after);
    expect((await readIndex(root)).manifests?.map((m) => m.digest)).toEqual([multi.indexDigest]);
    const rows = await digestRows(root);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.slice(0, 4)).toEqual([`${env.host}/multistore`, '1', multi.indexDigest, short(multi.indexDigest)]);
    const blobs = await listBlobs(root);
    for (const img of [multi.amd64, multi.arm64]) for (const d of [img.manifest, img.config, ...img.layers]) expect(blobs).toContain(d.digest.slice(7));
    expect(await checkLayout(root)).toMatchObject({ missing: [], corrupt: [], unreferenced: [] });
    const info = await inspectOne(root, NAME);
    expect(info).toMatchObject({ Id: multi.indexDigest, RepoDigests: [`${env.host}/multistore@${multi.indexDigest}`], Architecture: hostArch(), Os: 'linux' });
    // SIZE: every platform present (the store holds nothing else).
    expect(info.Size).toBe(await blobBytes(root));
    expect((await ok(['images', '-q'], root)).trim()).toBe(short(multi.indexDigest));
    // A third pull of a platform present: nothing new.
    expect(parsePull(await ok(['pull', '--platform', platformOf(mine()), NAME], root)).statuses).toEqual([`Image is up to date for ${NAME}`]);
  });

  it('pull without --platform is this machine\'s platform, with the index kept', async () => {
    const root = await makeRoot();
    await ok(['pull', NAME], root);
    expect(await inspectOne(root, NAME)).toMatchObject({ Id: multi.indexDigest, Architecture: hostArch() });
    expect(await checkLayout(root)).toMatchObject({ missing: [], absent: [theirs().manifest.digest], corrupt: [], unreferenced: [] });
  });

  it('rmi NAME removes every blob of both platforms', async () => {
    const root = await pulled(platformOf(theirs()), platformOf(mine()));
    const out = await ok(['rmi', NAME], root);
    expect(out.trim().split('\n')).toEqual([`Untagged: ${NAME}`, `Deleted: ${multi.indexDigest}`]);
    expect(await listBlobs(root)).toEqual([]);
    expect((await readIndex(root)).manifests ?? []).toEqual([]);
    expect(await checkLayout(root)).toMatchObject({ missing: [], corrupt: [], unreferenced: [] });
  });

  it('rmi by the short IMAGE ID (the index digest) removes it; absent children are not expected', async () => {
    const root = await pulled(platformOf(theirs()));
    await ok(['tag', NAME, `${env.host}/other:2`], root);
    const r = await tsd(['rmi', short(multi.indexDigest)], { root });
    expectOneLineError(r, `conflict: unable to delete ${short(multi.indexDigest)} (must be forced) - image is referenced in multiple repositories`);
    await ok(['rmi', '-f', short(multi.indexDigest)], root);
    expect(await listBlobs(root)).toEqual([]);
  });

  it('rmi of the index keeps the blobs another name still reaches (a platform pulled by digest: a single-manifest image)', async () => {
    const root = await pulled(platformOf(theirs()));
    const byDigest = `${env.host}/multistore@${theirs().manifest.digest}`;
    await ok(['pull', byDigest], root);
    // Pulled by its digest, the platform manifest is an image of its own: its ID is its config digest.
    expect(await inspectOne(root, byDigest)).toMatchObject({ Id: theirs().config.digest, Descriptor: { digest: theirs().manifest.digest } });
    await ok(['rmi', NAME], root);
    const blobs = await listBlobs(root);
    expect(blobs.sort()).toEqual([theirs().manifest, theirs().config, ...theirs().layers].map((d) => d.digest.slice(7)).sort());
    expect(await checkLayout(root)).toMatchObject({ missing: [], corrupt: [], unreferenced: [] });
  });

  it('info and image prune -a count the image once', async () => {
    const root = await pulled(platformOf(theirs()));
    expect((await ok(['info', '--format', '{{.images}} {{.names}} {{.dangling}} {{.damaged}}'], root)).trim()).toBe('1 1 0 0');
    const pruned = await ok(['image', 'prune', '-a', '-f'], root);
    expect(pruned).toContain(`deleted: ${multi.indexDigest}`);
    expect(await listBlobs(root)).toEqual([]);
  });
});

describe('a damaged index image', () => {
  it('a present platform lacking a layer is damaged: listed marked, removable', async () => {
    const root = await pulled(platformOf(theirs()));
    await rm(join(root, 'blobs', 'sha256', theirs().layers[0]!.digest.slice(7)));
    const r = await tsd(['images'], { root });
    expect(r.code, show(r)).toBe(0);
    expect(r.stderr).toContain(`is damaged (blob ${theirs().layers[0]!.digest} is missing)`);
    expect(parseTable(r.stdout).rows[0]!.slice(2, 3)).toEqual([short(multi.indexDigest)]);
    await ok(['rmi', NAME], root);
    expect(await listBlobs(root)).toEqual([]);
  });

  it('an index with no platform present is damaged', async () => {
    const root = await pulled(platformOf(theirs()));
    await rm(join(root, 'blobs', 'sha256', theirs().manifest.digest.slice(7)));
    const r = await tsd(['inspect', NAME], { root });
    expectOneLineError(r, `has no platform manifest in the store`);
    await ok(['rmi', NAME], root);
    // Without its manifest nothing tells which blobs were that platform's: they stay until `image prune`.
    expect((await listBlobs(root)).sort()).toEqual([theirs().config, ...theirs().layers].map((d) => d.digest.slice(7)).sort());
    await ok(['image', 'prune', '-f'], root);
    expect(await listBlobs(root)).toEqual([]);
  });
});

describe('push of an index image', () => {
  it('with a platform missing: one line naming it; --platform of the present one pushes its manifest', async () => {
    const root = await pulled(platformOf(theirs()));
    const target = `${env.host}/pushed/multi:1`;
    await ok(['tag', NAME, target], root);
    const r = await tsd(['push', target], { root });
    expectOneLineError(r, `image ${target} has platforms that are not in the store: ${platformOf(mine())}; push one with --platform ${platformOf(theirs())}`);
    const absent = await tsd(['push', '--platform', platformOf(mine()), target], { root });
    expectOneLineError(absent, `platform ${platformOf(mine())} of image ${target} is not in the store; pull it with: ts-docker pull --platform ${platformOf(mine())} ${target}`);
    const none = await tsd(['push', '--platform', 'linux/s390x', target], { root });
    expectOneLineError(none, 'no matching manifest for linux/s390x in the manifest list entries');

    const p = await tsd(['push', '--platform', platformOf(theirs()), target], { root });
    expect(p.code, show(p)).toBe(0);
    expect(parsePush(p.stdout).digests).toEqual([{ tag: '1', digest: theirs().manifest.digest, size: theirs().manifest.size }]);
    const raw = await skopeoRawManifest(`docker://${target}`);
    expect(`sha256:${createHash('sha256').update(raw).digest('hex')}`).toBe(theirs().manifest.digest);
    const inspected = JSON.parse((await skopeoOk(['inspect', `docker://${target}`])).stdout) as { Digest: string; Architecture: string };
    expect(inspected).toMatchObject({ Digest: theirs().manifest.digest, Architecture: theirs().platform.architecture });
  });

  it('with every platform present: the index as it was pulled', async () => {
    const root = await pulled(platformOf(theirs()), platformOf(mine()));
    const target = `${env.host}/pushed/multi:all`;
    await ok(['tag', NAME, target], root);
    const p = await tsd(['push', target], { root });
    expect(p.code, show(p)).toBe(0);
    expect(parsePush(p.stdout).digests.map((d) => d.digest)).toEqual([multi.indexDigest]);
    expect(JSON.parse(await skopeoRawManifest(`docker://${target}`)).manifests.map((m: { digest: string }) => m.digest)).toEqual([multi.amd64.manifest.digest, multi.arm64.manifest.digest]);
  });

  it('--platform of a single-platform image of another platform: docker\'s words', async () => {
    const root = await makeRoot();
    const byDigest = `${env.host}/multistore@${theirs().manifest.digest}`;
    await ok(['pull', byDigest], root);
    const single = `${env.host}/single:1`;
    await ok(['tag', byDigest, single], root);
    expect((await inspectOne(root, single)).Id).toBe(theirs().config.digest);
    const r = await tsd(['push', '--platform', platformOf(mine()), single], { root });
    expectOneLineError(r, `image with reference ${single} was found but does not match the specified platform: wanted ${platformOf(mine())}, actual: ${platformOf(theirs())}`);
    const p = await tsd(['push', '--platform', platformOf(theirs()), single], { root });
    expect(p.code, show(p)).toBe(0);
    expect(parsePush(p.stdout).digests.map((d) => d.digest)).toEqual([theirs().manifest.digest]);
  });
});

/**
 * The store's OCI layout alone (oci-layout, index.json, blobs/), copied: oci-image-tool walks every
 * file under the directory and stops at the pull's owner marks in ingest/partial (dangling symlinks
 * by design, store/leftovers.ts), whatever the images.
 */
async function layoutOnly(root: string): Promise<string> {
  const dir = join(await makeSandbox(), 'layout');
  await mkdir(dir);
  for (const f of ['oci-layout', 'index.json', 'blobs']) await cp(join(root, f), join(dir, f), { recursive: true });
  return dir;
}

describe('other tools reading a store with an absent platform', () => {
  it('skopeo inspect oci:STORE:NAME picks a present platform; the absent one fails as skopeo says', async () => {
    const root = await pulled(platformOf(theirs()));
    const present = await skopeo(['inspect', '--override-arch', theirs().platform.architecture, `oci:${root}:${NAME}`]);
    expect(present.code, present.stderr).toBe(0);
    // skopeo's Digest of an oci: reference is the index's (what the name points at), its fields the platform's.
    expect(JSON.parse(present.stdout) as object).toMatchObject({ Digest: multi.indexDigest, Architecture: theirs().platform.architecture, Layers: theirs().layers.map((l) => l.digest) });
    const absent = await skopeo(['inspect', '--override-arch', mine().platform.architecture, `oci:${root}:${NAME}`]);
    // Reported in the README: skopeo cannot read a platform the store does not hold.
    expect(absent.code).not.toBe(0);
    console.log(`skopeo inspect of the absent platform: ${absent.stderr.trim()}`);
    const raw = await skopeo(['inspect', '--raw', `oci:${root}:${NAME}`]);
    expect(raw.code, raw.stderr).toBe(0);
    expect(`sha256:${createHash('sha256').update(raw.stdout).digest('hex')}`).toBe(multi.indexDigest);
  });

  it('oci-image-tool validate: what it says of an index with an absent child (reported, not hidden)', async () => {
    const bin = await requireTool('oci-image-tool');
    const root = await pulled(platformOf(theirs()));
    const r = await sh(bin, ['validate', '--type', 'image', '--ref', `name=${NAME}`, await layoutOnly(root)]);
    console.log(`oci-image-tool validate (one platform of two): exit ${r.code}: ${(r.stdout + r.stderr).trim()}`);
    const full = await pulled(platformOf(theirs()), platformOf(mine()));
    const f = await sh(bin, ['validate', '--type', 'image', '--ref', `name=${NAME}`, await layoutOnly(full)]);
    console.log(`oci-image-tool validate (both platforms): exit ${f.code}: ${(f.stdout + f.stderr).trim()}`);
    expect(f.code, f.stdout + f.stderr).toBe(0);
  });
});
