/**
 * Test images for the registry suites: layers of incompressible, deterministic bytes (AES-CTR
 * keystream from a seed), put into a store through the CLI (`import`, or `load` of a
 * docker-archive skopeo made from a hand-written OCI layout), a two-platform OCI index for
 * skopeo to push, and an independent consistency check of a store after a failed pull.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack } from 'tar-stream';
import { makeSandbox, readIndex, runOk } from './cli.js';
import { checkLayout } from './layout.js';
import { skopeoOk } from './skopeo.js';

const MiB = 1024 * 1024;
/** A fixed creation time, so the same layers always make the same image ID. */
export const FIXED_EPOCH = '1704067200';
const FIXED_DATE = new Date(Number(FIXED_EPOCH) * 1000);

/** Deterministic incompressible bytes: the AES-128-CTR keystream keyed by `seed`, in pieces of at most 1 MiB. */
export function* seededChunks(seed: number, size: number): Generator<Buffer> {
  const key = createHash('sha256').update(`ts-docker-test-seed:${seed}`).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(Math.min(MiB, Math.max(size, 1)));
  for (let left = size; left > 0; left -= zeros.length) yield cipher.update(left >= zeros.length ? zeros : zeros.subarray(0, left));
}

/** {@link seededChunks} as one buffer (for small sizes). */
export function seededBytes(seed: number, size: number): Buffer {
  return Buffer.concat([...seededChunks(seed, size)]);
}

/** `docker`'s full form of a name, for looking it up in index.json (`a/b` -> `docker.io/a/b:latest`). */
export function fullRef(name: string): string {
  let n = name;
  const slash = n.indexOf('/');
  const first = slash < 0 ? '' : n.slice(0, slash);
  if (slash < 0 || !(first.includes('.') || first.includes(':') || first === 'localhost')) {
    n = `docker.io/${slash < 0 ? 'library/' : ''}${n}`;
  }
  const lastPart = n.slice(n.lastIndexOf('/') + 1);
  if (!lastPart.includes(':') && !lastPart.includes('@')) n += ':latest';
  return n;
}

/** The host's architecture in OCI words. */
export function hostArch(): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', s390x: 's390x', ppc64: 'ppc64le' } as Record<string, string>)[process.arch] ?? process.arch;
}

/** Writes a tar holding one regular file `member` of `size` seeded bytes; returns the tar's sha256 and size. */
export async function writeSeededTar(path: string, member: string, seed: number, size: number): Promise<{ digest: string; size: number }> {
  const p = pack();
  const hash = createHash('sha256');
  let total = 0;
  const tap = new Transform({
    transform(c: Buffer, _enc, cb) {
      hash.update(c);
      total += c.length;
      cb(null, c);
    },
  });
  const out = pipeline(p, tap, createWriteStream(path));
  await new Promise<void>((resolve, reject) => {
    const entry = p.entry({ name: member, size, mode: 0o644, mtime: FIXED_DATE, uid: 0, gid: 0, type: 'file' }, (err) => (err ? reject(err) : resolve()));
    void (async () => {
      for (const chunk of seededChunks(seed, size)) {
        if (!entry.write(chunk)) await new Promise<void>((r) => entry.once('drain', () => r()));
      }
      entry.end(undefined);
    })().catch(reject);
  });
  p.finalize();
  await out;
  return { digest: `sha256:${hash.digest('hex')}`, size: total };
}

/** A layer as the manifest describes it. */
export interface LayerDesc {
  mediaType?: string;
  digest: string;
  size: number;
}

/** An image put into a store by {@link makeImage}. */
export interface MadeImage {
  /** The name as given. */
  name: string;
  /** The name as index.json records it. */
  fullName: string;
  /** IMAGE ID (config digest). */
  id: string;
  /** The manifest digest (what a push of it reports). */
  manifestDigest: string;
  /** The layer descriptors, in order, as stored. */
  layers: LayerDesc[];
}

interface ManifestDoc {
  config: LayerDesc;
  layers: LayerDesc[];
}

async function readBlobJson<T>(root: string, digest: string): Promise<T> {
  return JSON.parse(await readFile(join(root, 'blobs', 'sha256', digest.replace(/^sha256:/, '')), 'utf8')) as T;
}

/** What index.json says about `name` in `root`. */
export async function describeStored(root: string, name: string): Promise<MadeImage> {
  const full = fullRef(name);
  const entry = (await readIndex(root)).manifests?.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === full);
  if (!entry) throw new Error(`${root}/index.json has no ${full}`);
  const m = await readBlobJson<ManifestDoc>(root, entry.digest);
  return { name, fullName: full, id: m.config.digest, manifestDigest: entry.digest, layers: m.layers };
}

/**
 * Puts an image named `name` with one layer per entry of `layers` (each a tar holding one file
 * of `sizeMiB` MiB of bytes from `seed`) into the store `root`, through the CLI:
 * - one layer: `ts-docker import FILE.tar NAME` (the layer is stored gzip-compressed; random
 *   bytes do not shrink);
 * - several: a hand-written OCI layout (uncompressed tar layers), `skopeo copy oci:... docker-archive:...`,
 *   then `ts-docker load`.
 * `sizeMiB` may be fractional. Same layers, same name -> same image ID (fixed creation time).
 */
export async function makeImage(root: string, name: string, layers: Array<{ sizeMiB: number; seed: number }>): Promise<MadeImage> {
  if (layers.length === 0) throw new Error('makeImage: at least one layer');
  const dir = await makeSandbox();
  const env = { SOURCE_DATE_EPOCH: FIXED_EPOCH };
  if (layers.length === 1) {
    const l = layers[0]!;
    const tar = join(dir, 'layer.tar');
    await writeSeededTar(tar, `data-${l.seed}.bin`, l.seed, Math.round(l.sizeMiB * MiB));
    // -m: a fixed history comment (the default names the temp file, which would change the ID).
    await runOk(['import', '-m', 'test/helpers/images.ts', tar, name], { root, env });
    return describeStored(root, name);
  }
  const layout = join(dir, 'layout');
  const made = await writeOciImage(layout, 'img', layers.map((l, i) => ({ member: `layer${i}-${l.seed}.bin`, seed: l.seed, size: Math.round(l.sizeMiB * MiB) })), { os: 'linux', architecture: hostArch() });
  const archive = join(dir, 'image.tar');
  await skopeoOk(['copy', `oci:${layout}:img`, `docker-archive:${archive}:${name}`]);
  await runOk(['load', '-i', archive], { root, env });
  const stored = await describeStored(root, name);
  if (stored.id !== made.config.digest) throw new Error(`makeImage: stored ID ${stored.id} is not the config written ${made.config.digest}`);
  return stored;
}

/** A platform as an OCI index records it. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** The descriptors of one image written by {@link writeOciImage}. */
export interface WrittenImage {
  manifest: Required<LayerDesc>;
  config: Required<LayerDesc>;
  layers: Array<Required<LayerDesc>>;
  platform: Platform;
}

async function putBlob(layout: string, bytes: Buffer): Promise<{ digest: string; size: number }> {
  const hex = createHash('sha256').update(bytes).digest('hex');
  await writeFile(join(layout, 'blobs', 'sha256', hex), bytes);
  return { digest: `sha256:${hex}`, size: bytes.length };
}

async function initLayout(layout: string): Promise<void> {
  await mkdir(join(layout, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
}

async function writeIndex(layout: string, manifests: object[]): Promise<void> {
  await writeFile(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }));
}

/** Writes one image (uncompressed seeded tar layers) into the OCI layout (created if needed) and names it `ref`. */
export async function writeOciImage(layout: string, ref: string, layers: Array<{ member: string; seed: number; size: number }>, platform: Platform): Promise<WrittenImage> {
  await initLayout(layout);
  const written = await writeImageBlobs(layout, layers, platform);
  await writeIndex(layout, [{ ...written.manifest, annotations: { 'org.opencontainers.image.ref.name': ref } }]);
  return written;
}

/** Gzips `src` into `dst` (deterministic: no name, no mtime); returns the digest and size of `dst`. */
async function gzipFile(src: string, dst: string): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(c: Buffer, _enc, cb) {
      hash.update(c);
      size += c.length;
      cb(null, c);
    },
  });
  await pipeline(createReadStream(src), createGzip(), tap, createWriteStream(dst));
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

/**
 * Writes the layers, config and manifest of one image. `gzip`: layers as tar+gzip (skopeo
 * pushes those as they are; it would compress plain tar layers and change every digest).
 */
async function writeImageBlobs(layout: string, layers: Array<{ member: string; seed: number; size: number }>, platform: Platform, gzip = false): Promise<WrittenImage> {
  const descs: Array<Required<LayerDesc>> = [];
  const diffIds: string[] = [];
  for (const l of layers) {
    const tmp = join(layout, `tmp-${l.seed}-${descs.length}.tar`);
    const t = await writeSeededTar(tmp, l.member, l.seed, l.size);
    diffIds.push(t.digest);
    if (gzip) {
      const gz = await gzipFile(tmp, `${tmp}.gz`);
      await rm(tmp);
      await rename(`${tmp}.gz`, join(layout, 'blobs', 'sha256', gz.digest.slice(7)));
      descs.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: gz.digest, size: gz.size });
    } else {
      await rename(tmp, join(layout, 'blobs', 'sha256', t.digest.slice(7)));
      descs.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: t.digest, size: t.size });
    }
  }
  const config = {
    created: FIXED_DATE.toISOString(),
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Labels: { 'made-by': 'test/helpers/images.ts' } },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: descs.map(() => ({ created: FIXED_DATE.toISOString(), created_by: 'test/helpers/images.ts' })),
  };
  const c = await putBlob(layout, Buffer.from(JSON.stringify(config)));
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...c },
    layers: descs,
  };
  const m = await putBlob(layout, Buffer.from(JSON.stringify(manifest)));
  return {
    manifest: { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m },
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...c },
    layers: descs,
    platform,
  };
}

/** A two-platform index written by {@link makeMultiPlatformLayout}. */
export interface MultiPlatformLayout {
  /** The layout directory. */
  layout: string;
  /** `oci:<layout>:multi`, for `skopeo copy --all`. */
  ociRef: string;
  /** The index's digest. */
  indexDigest: string;
  amd64: WrittenImage;
  arm64: WrittenImage;
}

/**
 * An OCI layout holding an image index `multi` with two platforms (linux/amd64 and
 * linux/arm64, each a one-layer image with its own bytes and a `platform` field in the index).
 */
export async function makeMultiPlatformLayout(dir?: string): Promise<MultiPlatformLayout> {
  const layout = join(dir ?? (await makeSandbox()), 'multi-layout');
  await initLayout(layout);
  const amd64 = await writeImageBlobs(layout, [{ member: 'amd64.bin', seed: 6401, size: 96 * 1024 }], { os: 'linux', architecture: 'amd64' }, true);
  const arm64 = await writeImageBlobs(layout, [{ member: 'arm64.bin', seed: 6402, size: 80 * 1024 }], { os: 'linux', architecture: 'arm64' }, true);
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      { ...amd64.manifest, platform: amd64.platform },
      { ...arm64.manifest, platform: arm64.platform },
    ],
  };
  const idx = await putBlob(layout, Buffer.from(JSON.stringify(index)));
  await writeIndex(layout, [{ mediaType: 'application/vnd.oci.image.index.v1+json', ...idx, annotations: { 'org.opencontainers.image.ref.name': 'multi' } }]);
  return { layout, ociRef: `oci:${layout}:multi`, indexDigest: idx.digest, amd64, arm64 };
}

/** sha256 of a file, streamed. */
export async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(path), h);
  return h.digest('hex');
}

/** What is wrong with a store after a failed command (all empty when consistent). */
export interface StoreProblems {
  /** Files in blobs/sha256 whose bytes do not hash to their name. */
  misnamedBlobs: string[];
  /** Digests reachable from index.json (manifests, configs, layers) that are absent. */
  missing: string[];
  /** Reachable blobs whose bytes or size do not match their descriptor. */
  corrupt: string[];
}

/**
 * Checks a store independently of ts-docker's code: every file in `blobs/sha256` hashes to its
 * name, and every index.json entry leads to manifests, configs and layers that exist and match.
 * Unreferenced blobs are allowed (a failed pull may leave verified layers behind).
 */
export async function storeProblems(root: string): Promise<StoreProblems> {
  const dir = join(root, 'blobs', 'sha256');
  const misnamedBlobs: string[] = [];
  let names: string[] = [];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  for (const n of names) if ((await fileSha256(join(dir, n))) !== n) misnamedBlobs.push(n);
  let missing: string[] = [];
  let corrupt: string[] = [];
  try {
    await readFile(join(root, 'index.json'));
    ({ missing, corrupt } = await checkLayout(root));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  return { misnamedBlobs, missing, corrupt };
}
