/**
 * The archive endpoints (OCI layout, OCI archive, docker-archive) in-process, copied between one
 * another by a tiny driver (the copy pipeline's calls: has / put / putManifest children first,
 * root last / commit), and checked by skopeo, oci-image-tool and umoci.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DockerArchiveDestination, DockerArchiveSource } from '../../../src/archive/docker-archive.js';
import type { SourceImage } from '../../../src/archive/layout-source.js';
import { OciArchiveDestination, OciArchiveSource } from '../../../src/archive/oci-archive.js';
import { OciLayoutDestination, OciLayoutSource } from '../../../src/archive/oci-layout.js';
import { DigestMismatchError, InvalidContentError, NotFoundError } from '../../../src/errors.js';
import type { Descriptor } from '../../../src/image/descriptor.js';
import type { CopiedImage, ImageDestination, ImageSource } from '../../../src/image/endpoint.js';
import { copyImages } from '../../../src/copy/copy.js';
import { parseManifest } from '../../../src/image/manifest.js';
import { fileEntry, readTar, writeTar } from '../../helpers/archive.js';
import { makeSandbox, requireTool, sh } from '../../helpers/cli.js';
import { makeTestImage, sha256 } from '../../helpers/hostile-registry.js';
import { hostArch, makeMultiPlatformLayout, writeOciImage } from '../../helpers/images.js';
import { checkLayout } from '../../helpers/layout.js';
import { skopeoInspect, skopeoOk, skopeoRawManifest } from '../../helpers/skopeo.js';

/** The copy pipeline between two endpoints, every platform of an index. */
async function copy(src: ImageSource, dst: ImageDestination, roots: Array<{ root: Descriptor; names: string[] }>): Promise<CopiedImage[]> {
  return copyImages(src, dst, roots, { concurrency: 4 });
}

/** An OCI layout holding `img` (from makeTestImage) under `ref`, written by hand. */
async function layoutOf(dir: string, img: ReturnType<typeof makeTestImage>, ref: string): Promise<Descriptor> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  for (const b of [img.config, ...img.layers]) await writeFile(join(dir, 'blobs', 'sha256', b.digest.slice(7)), b.bytes);
  await writeFile(join(dir, 'blobs', 'sha256', img.manifestDigest.slice(7)), img.manifest);
  const root = { mediaType: img.manifestMediaType, digest: img.manifestDigest as Descriptor['digest'], size: img.manifest.length };
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...root, annotations: { 'org.opencontainers.image.ref.name': ref } }] }));
  return root;
}

/** `oci-image-tool validate --type image DIR --ref name=REF` (Debian's 1.0.0-rc1 has no `imageLayout` type). */
async function ociImageToolValidate(dir: string, ref: string): Promise<string> {
  const bin = await requireTool('oci-image-tool');
  const r = await sh(bin, ['validate', '--type', 'image', '--ref', `name=${ref}`, dir]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return r.stdout + r.stderr;
}

async function umociLs(dir: string): Promise<string[]> {
  const bin = await requireTool('umoci');
  const r = await sh(bin, ['ls', '--layout', dir]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return r.stdout.split('\n').filter(Boolean).sort();
}

/** Extracts a tar (small) into a fresh directory with tar-stream, for the layout validators. */
async function extract(file: string): Promise<string> {
  const dir = join(await makeSandbox(), 'extracted');
  for (const e of await readTar(file)) {
    const p = join(dir, e.header.name);
    if (e.header.type === 'directory') await mkdir(p, { recursive: true });
    else {
      await mkdir(join(p, '..'), { recursive: true });
      await writeFile(p, e.data);
    }
  }
  return dir;
}

async function filesIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

function oneLine(err: unknown): string {
  const msg = (err as Error).message;
  expect(msg).not.toContain('\n');
  return msg;
}

describe('OCI layout <-> OCI archive', () => {
  it('round-trips a two-platform index oci -> oci-archive -> oci with every digest kept', async () => {
    const multi = await makeMultiPlatformLayout();
    const src = await OciLayoutSource.open(multi.layout, 'multi');
    expect(src.image.root.digest).toBe(multi.indexDigest);
    expect(src.image.names).toEqual(['multi']);

    const archive = join(await makeSandbox(), 'multi.tar');
    await copy(src, new OciArchiveDestination(archive), [{ root: src.image.root, names: ['multi'] }]);
    // index.json and oci-layout close the archive.
    const names = (await readTar(archive)).map((e) => e.header.name);
    expect(names.slice(-2)).toEqual(['index.json', 'oci-layout']);
    expect(JSON.parse(await skopeoRawManifest(`oci-archive:${archive}:multi`)).manifests).toHaveLength(2);
    const inspected = await skopeoInspect(`oci-archive:${archive}:multi`, '--override-arch', 'arm64');
    expect(inspected.Layers).toEqual(multi.arm64.layers.map((l) => l.digest));
    await ociImageToolValidate(await extract(archive), 'multi');

    const back = await OciArchiveSource.open(archive, 'multi');
    expect(back.image.root.digest).toBe(multi.indexDigest);
    const out = join(await makeSandbox(), 'out-layout');
    await copy(back, new OciLayoutDestination(out), [{ root: back.image.root, names: ['multi'] }]);
    const report = await checkLayout(out);
    expect(report.missing).toEqual([]);
    expect(report.corrupt).toEqual([]);
    expect(report.unreferenced).toEqual([]);
    // Byte for byte the blobs of the original (the hand-written layout has the same reachable set).
    expect(report.reachable).toEqual((await checkLayout(multi.layout)).reachable);
    expect(await skopeoRawManifest(`oci:${out}:multi`)).toBe(await readFile(join(multi.layout, 'blobs', 'sha256', multi.indexDigest.slice(7)), 'utf8'));
    await ociImageToolValidate(out, 'multi');
    expect(await umociLs(out)).toEqual(['multi']);
    // No temp files left in the layout.
    expect(await filesIn(out)).toEqual(['blobs', 'index.json', 'oci-layout']);
  });

  it('names by ref: a second commit of the same ref replaces its entry, others stay', async () => {
    const dir = join(await makeSandbox(), 'layout');
    const a = makeTestImage({ files: [Buffer.from('a')] });
    const b = makeTestImage({ files: [Buffer.from('b')] });
    const la = join(await makeSandbox(), 'a');
    const lb = join(await makeSandbox(), 'b');
    const ra = await layoutOf(la, a, 'x');
    const rb = await layoutOf(lb, b, 'x');
    const dst = new OciLayoutDestination(dir);
    await copy(await OciLayoutSource.open(la), dst, [{ root: ra, names: ['one', 'two'] }]);
    await copy(await OciLayoutSource.open(lb, 'x'), dst, [{ root: rb, names: ['two'] }]);
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
    const byName = Object.fromEntries(index.manifests.map((m) => [m.annotations!['org.opencontainers.image.ref.name'], m.digest]));
    expect(byName).toEqual({ one: a.manifestDigest, two: b.manifestDigest });
    expect(await dst.upToDate(rb, ['two'])).toBe(true);
    expect(await dst.upToDate(rb, ['one'])).toBe(false);
    expect(await dst.commit([{ root: rb, target: rb, names: ['two'] }])).toBe(false);
    expect(JSON.parse(await skopeoRawManifest(`oci:${dir}:one`)).config.digest).toBe(a.config.digest);
    await ociImageToolValidate(dir, 'one');
    expect(await umociLs(dir)).toEqual(['one', 'two']);
    // Several images and no ref: the caller must choose.
    const all = await OciLayoutSource.open(dir);
    expect(all.images.map((i) => i.names)).toEqual([['one'], ['two']]);
    expect(() => all.image).toThrow(/holds 2 images/);
    await expect(OciLayoutSource.open(dir, 'nope')).rejects.toThrow(NotFoundError);
  });

  it('reads an OCI archive skopeo wrote (plain and gzip-compressed)', async () => {
    const multi = await makeMultiPlatformLayout();
    const file = join(await makeSandbox(), 'by-skopeo.tar');
    await skopeoOk(['copy', '--all', multi.ociRef, `oci-archive:${file}:v1`]);
    const src = await OciArchiveSource.open(file);
    expect(src.image).toEqual({ root: { mediaType: 'application/vnd.oci.image.index.v1+json', digest: multi.indexDigest, size: expect.any(Number) }, names: ['v1'] });
    const out = join(await makeSandbox(), 'out');
    await copy(src, new OciLayoutDestination(out), [{ root: src.image.root, names: ['v1'] }]);
    expect((await checkLayout(out)).reachable).toEqual((await checkLayout(multi.layout)).reachable);
    const gz = `${file}.gz`;
    await pipeline(createReadStream(file), createGzip(), createWriteStream(gz));
    const zipped = await OciArchiveSource.open(gz, 'v1');
    expect(zipped.image.root.digest).toBe(multi.indexDigest);
    await zipped.close();
    await expect(OciArchiveSource.open(file, 'v2')).rejects.toThrow(NotFoundError);
  });

  it('reads an OCI layout skopeo wrote, and a blob at an offset', async () => {
    const img = makeTestImage({ files: [Buffer.alloc(300_000, 3), Buffer.from('second')] });
    const la = join(await makeSandbox(), 'a');
    await layoutOf(la, img, 'v1');
    const viaSkopeo = join(await makeSandbox(), 'skopeo-layout');
    await skopeoOk(['copy', `oci:${la}:v1`, `oci:${viaSkopeo}:v2`]);
    const src = await OciLayoutSource.open(viaSkopeo, 'v2');
    const layer = { mediaType: img.layers[0]!.mediaType, digest: img.layers[0]!.digest as Descriptor['digest'], size: img.layers[0]!.size };
    const { stream } = await src.blob(layer, 1000);
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(img.layers[0]!.bytes.subarray(1000))).toBe(true);
  });
});

describe('docker-archive', () => {
  it('writes docker 25+\'s layout, which skopeo and the source read back', async () => {
    const img = makeTestImage({ files: [Buffer.alloc(200_000, 1), Buffer.from('top')] });
    const la = join(await makeSandbox(), 'a');
    const root = await layoutOf(la, img, 'v1');
    const src = await OciLayoutSource.open(la, 'v1');
    const dir = await makeSandbox();
    const file = join(dir, 'img.tar');
    await copy(src, new DockerArchiveDestination(file), [{ root, names: ['docker.io/library/apa:1', 'zoo.example/x/y:2'] }]);
    expect(await filesIn(dir)).toEqual(['img.tar']);

    const entries = (await readTar(file)).map((e) => e.header.name);
    expect(entries.slice(-4)).toEqual(['index.json', 'manifest.json', 'oci-layout', 'repositories']);
    // skopeo's docker-archive source names layers by their diff_ids (it serves them uncompressed).
    const diffIds = img.tars.map((t) => sha256(t));
    const inspected = await skopeoInspect(`docker-archive:${file}:zoo.example/x/y:2`);
    expect(inspected.Layers).toEqual(diffIds);
    const toOci = join(await makeSandbox(), 'from-archive');
    await skopeoOk(['copy', `docker-archive:${file}:apa:1`, `oci:${toOci}:apa`]);
    const config = JSON.parse((await skopeoOk(['inspect', '--config', `oci:${toOci}:apa`])).stdout) as { rootfs: { diff_ids: string[] } };
    expect(config.rootfs.diff_ids).toEqual(diffIds);

    // Our source reads index.json: the manifest digest is the original's.
    const back = await DockerArchiveSource.open(file, 'apa:1');
    expect(back.image).toEqual({ root, names: ['docker.io/library/apa:1'] });
    const all = await DockerArchiveSource.open(file);
    expect(all.image.names.sort()).toEqual(['docker.io/library/apa:1', 'zoo.example/x/y:2']);
    const out = join(await makeSandbox(), 'out');
    await copy(back, new OciLayoutDestination(out), [{ root: back.image.root, names: ['apa'] }]);
    expect((await checkLayout(out)).missing).toEqual([]);
    await ociImageToolValidate(out, 'apa');
    await expect(DockerArchiveSource.open(file, 'other:1')).rejects.toThrow(NotFoundError);
  });

  it('writes one platform of a two-platform index into manifest.json', async () => {
    const multi = await makeMultiPlatformLayout();
    const src = await OciLayoutSource.open(multi.layout, 'multi');
    const file = join(await makeSandbox(), 'multi.tar');
    await copy(src, new DockerArchiveDestination(file), [{ root: src.image.root, names: ['multi:1'] }]);
    const manifestJson = JSON.parse((await readTar(file)).find((e) => e.header.name === 'manifest.json')!.data.toString()) as Array<{ Config: string; RepoTags: string[] }>;
    const want = hostArch() === 'arm64' ? multi.arm64 : multi.amd64;
    expect(manifestJson).toEqual([{ Config: `blobs/sha256/${want.config.digest.slice(7)}`, RepoTags: ['multi:1'], Layers: want.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`) }]);
    const back = await DockerArchiveSource.open(file, 'multi:1');
    expect(back.image.root.digest).toBe(multi.indexDigest);
    const config = JSON.parse(await readFile(join(multi.layout, 'blobs', 'sha256', want.config.digest.slice(7)), 'utf8')) as { rootfs: { diff_ids: string[] } };
    expect((await skopeoInspect(`docker-archive:${file}`)).Layers).toEqual(config.rootfs.diff_ids);
  });

  it('reads a docker-archive skopeo made (manifest.json only) as the OCI image load makes of it', async () => {
    const sandbox = await makeSandbox();
    const layout = join(sandbox, 'layout');
    const made = await writeOciImage(layout, 'img', [{ member: 'a.bin', seed: 11, size: 150_000 }, { member: 'b.bin', seed: 12, size: 2000 }], { os: 'linux', architecture: 'amd64' });
    const file = join(sandbox, 'skopeo.tar');
    await skopeoOk(['copy', `oci:${layout}:img`, `docker-archive:${file}:made/by:skopeo`]);
    const src = await DockerArchiveSource.open(file);
    expect(src.image.names).toEqual(['docker.io/made/by:skopeo']);
    const m = parseManifest(await src.manifest(src.image.root));
    expect(m.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    if (m.kind !== 'manifest') throw new Error('not a manifest');
    expect(m.manifest.config.digest).toBe(made.config.digest);
    // skopeo stores the layers uncompressed: plain tar, by their sniffed magic.
    expect(m.manifest.layers.map((l) => [l.mediaType, l.digest])).toEqual(made.layers.map((l) => ['application/vnd.oci.image.layer.v1.tar', l.digest]));
    // The layer digests agree with skopeo's own reading of the archive.
    expect((await skopeoInspect(`docker-archive:${file}`)).Layers).toEqual(made.layers.map((l) => l.digest));

    const out = join(sandbox, 'out');
    await copy(src, new OciLayoutDestination(out), [{ root: src.image.root, names: ['by-skopeo'] }]);
    const report = await checkLayout(out);
    expect(report.missing).toEqual([]);
    expect(report.corrupt).toEqual([]);
    // Kept byte for byte in an OCI layout.
    const back = await OciLayoutSource.open(out, 'by-skopeo');
    expect((await back.manifest(back.image.root)).equals(await src.manifest(src.image.root))).toBe(true);
    // `docker save | gzip` style: decompressed into a temp folder, removed by close.
    const gz = join(sandbox, 'skopeo.tar.gz');
    await pipeline(createReadStream(file), createGzip(), createWriteStream(gz));
    const zipped = await DockerArchiveSource.open(gz, 'made/by:skopeo');
    expect(zipped.image.root).toEqual(src.image.root);
    const temp = (zipped as unknown as { files: { tar: { temp: string } } }).files.tar.temp;
    expect((await stat(temp)).isDirectory()).toBe(true);
    await zipped.close();
    expect(await stat(temp).catch(() => undefined)).toBeUndefined();

    const again = join(sandbox, 'again.tar');
    await copy(src, new DockerArchiveDestination(again), [{ root: src.image.root, names: ['made/by:skopeo'] }]);
    expect((await skopeoInspect(`docker-archive:${again}`)).Layers).toEqual(made.layers.map((l) => l.digest));
  });
});

describe('hostile archives and failed copies', () => {
  it('refuses an entry that climbs out of the archive, with one line', async () => {
    const file = join(await makeSandbox(), 'evil.tar');
    await writeTar(file, [fileEntry('oci-layout', '{"imageLayoutVersion":"1.0.0"}'), fileEntry('../x', 'pwned'), fileEntry('index.json', '{"schemaVersion":2,"manifests":[]}')]);
    for (const open of [() => OciArchiveSource.open(file), () => DockerArchiveSource.open(file)]) {
      const err = await open().then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidContentError);
      expect(oneLine(err)).toMatch(/entry "\.\.\/x" points outside the archive/);
    }
  });

  it('refuses an index.json that points at a missing blob, with one line', async () => {
    const img = makeTestImage();
    const entries = [
      fileEntry('oci-layout', '{"imageLayoutVersion":"1.0.0"}'),
      fileEntry(`blobs/sha256/${img.config.digest.slice(7)}`, img.config.bytes),
      fileEntry('index.json', JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: img.manifestMediaType, digest: img.manifestDigest, size: img.manifest.length, annotations: { 'org.opencontainers.image.ref.name': 'x' } }] })),
    ];
    const file = join(await makeSandbox(), 'missing.tar');
    await writeTar(file, entries);
    const err = await OciArchiveSource.open(file, 'x').then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidContentError);
    expect(oneLine(err)).toBe(`invalid archive ${file}: manifest ${img.manifestDigest} is missing`);
    const derr = await DockerArchiveSource.open(file).then(() => undefined, (e: unknown) => e);
    expect(oneLine(derr)).toMatch(/is missing$/);
    const dir = join(await makeSandbox(), 'layout');
    await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
    for (const e of entries) await writeFile(join(dir, e.header.name), e.data);
    expect(oneLine(await OciLayoutSource.open(dir, 'x').catch((e: unknown) => e))).toBe(`invalid OCI layout ${dir}: manifest ${img.manifestDigest} is missing`);
  });

  it('refuses a blob whose bytes are not its digest, and a failed copy leaves no file at the target', async () => {
    const img = makeTestImage({ files: [Buffer.alloc(50_000, 9)] });
    const la = join(await makeSandbox(), 'a');
    const root = await layoutOf(la, img, 'v1');
    // Same size, other bytes.
    const bad = Buffer.from(img.layers[0]!.bytes);
    bad[100] = bad[100]! ^ 0xff;
    await writeFile(join(la, 'blobs', 'sha256', img.layers[0]!.digest.slice(7)), bad);
    const src = await OciLayoutSource.open(la, 'v1');
    for (const make of [(f: string) => new OciArchiveDestination(f), (f: string) => new DockerArchiveDestination(f)]) {
      const dir = await makeSandbox();
      const err = await copy(src, make(join(dir, 'out.tar')), [{ root, names: ['a:1'] }]).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(DigestMismatchError);
      oneLine(err);
      expect(await filesIn(dir)).toEqual([]);
    }
    const out = join(await makeSandbox(), 'layout');
    const err = await copy(src, new OciLayoutDestination(out), [{ root, names: ['a'] }]).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(DigestMismatchError);
    expect(await stat(join(out, 'blobs', 'sha256', img.layers[0]!.digest.slice(7))).catch(() => undefined)).toBeUndefined();
    expect((await filesIn(out)).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('refuses a docker-archive whose manifest.json names a path outside it', async () => {
    const img = makeTestImage();
    const file = join(await makeSandbox(), 'evil-manifest.tar');
    await writeTar(file, [
      fileEntry('cfg.json', img.config.bytes),
      fileEntry('manifest.json', JSON.stringify([{ Config: '../../etc/passwd', RepoTags: ['a:1'], Layers: [] }])),
    ]);
    expect(oneLine(await DockerArchiveSource.open(file).catch((e: unknown) => e))).toMatch(/points outside the archive/);
    expect(sha256(img.config.bytes)).toBe(img.config.digest);
  });

  it('reads a blob source stream lazily: a Readable from memory works as a put source', async () => {
    const img = makeTestImage();
    const file = join(await makeSandbox(), 'mem.tar');
    const dst = new OciArchiveDestination(file);
    const d = { mediaType: img.config.mediaType, digest: img.config.digest as Descriptor['digest'], size: img.config.size };
    expect(await dst.put(d, async () => ({ stream: Readable.from([img.config.bytes]), resumed: false }), () => undefined, { layer: false })).toBe('transferred');
    expect(await dst.has(d)).toBe(true);
    await dst.abort();
    expect(await stat(file).catch(() => undefined)).toBeUndefined();
  });
});

export type { SourceImage };
