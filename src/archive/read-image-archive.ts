/**
 * Interprets a staged archive as images: docker-archive (`manifest.json`, as `docker save` and
 * skopeo write it, with or without docker 25+'s OCI files) or an OCI archive (`index.json`).
 * Everything is verified here, before the store is touched.
 */
import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { DigestMismatchError, InvalidContentError } from '../errors.js';
import type { ImageConfig } from '../image/config.js';
import type { Descriptor } from '../image/descriptor.js';
import { bareDescriptor } from '../image/descriptor.js';
import type { Digest } from '../image/digest.js';
import { DigestingStream } from '../image/digest.js';
import type { ImageManifest } from '../image/manifest.js';
import { parseConfigFor, parseJson, parseManifest } from '../image/manifest.js';
import { isIndexType, isManifestType } from '../image/media-types.js';
import type { BlobStore, StagedBlob } from '../store/blobs.js';
import type { LayerInfo } from '../store/layer-info.js';
import type { Compression } from './compression.js';
import { sniffCompression } from './compression.js';
import type { BareLayer } from './docker-manifest-json.js';
import { archiveName, indexEntryNames, parseManifestJson, synthesizedManifest } from './docker-manifest-json.js';
import type { StagedArchive } from './tar-staging.js';

/** One image found in an archive. */
export interface ArchiveImage {
  /** The manifest (or index) that names point at. */
  root: Descriptor;
  /** Full references it is to be named by; empty loads it untagged. */
  names: string[];
}

/** An archive's images and every blob they need, by digest. */
export interface ParsedArchive {
  images: ArchiveImage[];
  blobs: Map<Digest, StagedBlob>;
  /** Each layer's uncompressed digest and size, as measured (none for zstd layers). */
  layers: Map<Digest, LayerInfo>;
}

const BLOB_PATH = /^blobs\/sha256\/([a-f0-9]{64})$/;

async function headOf(path: string): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(8);
    const { bytesRead } = await fh.read(buf, 0, 8, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

async function uncompressed(path: string, compression: Compression): Promise<LayerInfo> {
  const hasher = new DigestingStream();
  const stages = compression === 'gzip' ? [createReadStream(path), createGunzip(), hasher] : [createReadStream(path), hasher];
  try {
    // @ts-expect-error pipeline's overloads do not take a spread of streams
    await pipeline(...stages, async function* drain(src: AsyncIterable<Buffer>) { for await (const _ of src) { /* hash only */ } });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code?.startsWith('Z_')) throw new InvalidContentError(`invalid archive: a layer does not decompress: ${(err as Error).message}`);
    throw err;
  }
  return { diffId: hasher.digest(), size: hasher.size };
}

/**
 * Checks layer `i` (staged as `f`) against its diff_id, decompressing it if it is gzip; zstd
 * cannot be checked (Node 20's zlib has no zstd) and gives nothing to record.
 */
async function checkLayer(f: StagedBlob, i: number, diffId: Digest, layers: Map<Digest, LayerInfo>): Promise<'gzip' | 'zstd' | 'none'> {
  const compression = sniffCompression(await headOf(f.path));
  if (compression !== 'gzip' && compression !== 'none' && compression !== 'zstd') {
    throw new InvalidContentError(`invalid archive: layer ${i} is ${compression}-compressed, which images cannot carry`);
  }
  if (compression === 'zstd') return compression;
  const known = layers.get(f.digest) ?? (await uncompressed(f.path, compression));
  if (known.diffId !== diffId) {
    throw new DigestMismatchError(`invalid archive: layer ${i} does not match its diff_id ${diffId} (content is ${known.diffId})`);
  }
  layers.set(f.digest, known);
  return compression;
}

/** Reads, checks and collects what `staged` holds; throws before anything reaches the store. */
export async function readImageArchive(staged: StagedArchive, blobs: BlobStore): Promise<ParsedArchive> {
  const byDigest = new Map<Digest, StagedBlob>();
  for (const [name, f] of staged.files) {
    const m = BLOB_PATH.exec(name);
    if (m && f.digest !== `sha256:${m[1]}`) {
      throw new DigestMismatchError(`invalid archive: ${name} does not match its digest (content is ${f.digest})`);
    }
    byDigest.set(f.digest, f);
  }
  const needed = new Map<Digest, StagedBlob>();
  const layers = new Map<Digest, LayerInfo>();
  const need = (d: Descriptor, where: string): StagedBlob => {
    const f = byDigest.get(d.digest);
    if (!f) throw new InvalidContentError(`invalid archive: ${where} ${d.digest} is missing`);
    if (f.size !== d.size) throw new DigestMismatchError(`invalid archive: ${where} ${d.digest} has size ${f.size}, expected ${d.size}`);
    needed.set(d.digest, f);
    return f;
  };
  /** Checks the manifest or index at `d` and everything it needs that the archive holds; returns its media type as its body decides. */
  const walk = async (d: Descriptor, where: string): Promise<string> => {
    const f = need(d, where);
    if (!isIndexType(d.mediaType) && !isManifestType(d.mediaType)) return d.mediaType;
    const parsed = parseManifest(await readSmallBlob(f), d.mediaType);
    if (parsed.kind === 'index') {
      for (const c of parsed.index.manifests) {
        if (byDigest.has(c.digest)) await walk(c, 'index entry');
      }
      return parsed.mediaType;
    }
    const cfg = need(parsed.manifest.config, 'config');
    const config = parseConfigFor(await readSmallBlob(cfg, 'config'), parsed.manifest);
    for (const [i, l] of parsed.manifest.layers.entries()) await checkLayer(need(l, `layer ${i}`), i, config.rootfs.diff_ids[i]!, layers);
    return parsed.mediaType;
  };

  const images: ArchiveImage[] = [];
  const ociIndex = staged.has('index.json')
    ? parseJson<{ manifests?: Descriptor[] }>(await staged.readSmall('index.json'), 'archive index.json')
    : undefined;

  if (staged.has('manifest.json')) {
    const entries = parseManifestJson(await staged.readSmall('manifest.json'));
    const ociManifests = ociIndex ? await collectManifests(ociIndex.manifests ?? [], byDigest) : [];
    // A multi-platform image saved whole (docker 28+ with the containerd store, ts-docker save):
    // index.json names an index whose platform manifests manifest.json lists one by one. The
    // index is the image, as docker 29 loads it; manifest.json's entries for its platforms are
    // not images of their own.
    const inIndex = new Set<Digest>();
    for (const d of ociIndex?.manifests ?? []) {
      const names = indexEntryNames(d);
      if (!isIndexType(d.mediaType) || names.length === 0 || !byDigest.has(d.digest)) continue;
      const mediaType = await walk(d, 'manifest');
      images.push({ root: { ...bareDescriptor(d), mediaType }, names });
      for (const m of await collectManifests([d], byDigest)) inIndex.add(m.descriptor.digest);
    }
    for (const e of entries) {
      const cfgFile = staged.get(e.Config);
      if (!cfgFile) throw new InvalidContentError(`invalid archive: missing ${e.Config}`);
      const configBytes = await staged.readSmall(e.Config);
      const layerFiles = e.Layers.map((p) => {
        const f = staged.get(p);
        if (!f) throw new InvalidContentError(`invalid archive: missing layer ${p}`);
        return f;
      });
      const names = e.RepoTags.map((t) => archiveName(t, 'manifest.json'));
      const existing = ociManifests.find((m) => m.manifest.config.digest === cfgFile.digest
        && m.manifest.layers.length === layerFiles.length
        && m.manifest.layers.every((l, j) => l.digest === layerFiles[j]!.digest));
      if (existing && inIndex.has(existing.descriptor.digest)) continue;
      if (existing) {
        const mediaType = await walk(existing.descriptor, 'manifest');
        images.push({ root: { ...existing.descriptor, mediaType }, names });
        continue;
      }
      const config = parseConfigFor(configBytes, { layers: layerFiles });
      const root = await synthesize(config, cfgFile, layerFiles, blobs, needed, layers);
      images.push({ root, names });
    }
  } else if (ociIndex) {
    if (!Array.isArray(ociIndex.manifests)) throw new InvalidContentError('invalid archive: index.json has no manifests');
    for (const d of ociIndex.manifests) {
      const mediaType = await walk(d, 'manifest');
      const names = indexEntryNames(d);
      const root = { ...bareDescriptor(d), mediaType };
      const prev = images.find((im) => im.root.digest === root.digest);
      if (prev) prev.names.push(...names.filter((n) => !prev.names.includes(n)));
      else images.push({ root, names });
    }
  } else {
    throw new InvalidContentError('invalid archive: no manifest.json or index.json: not a docker-archive or OCI archive');
  }
  return { images, blobs: needed, layers };
}

async function readSmallBlob(f: StagedBlob, what = 'manifest'): Promise<Buffer> {
  if (f.size > 32 * 1024 * 1024) throw new InvalidContentError(`invalid archive: ${what} ${f.digest} is too large`);
  return readFile(f.path);
}

/** Every single-image manifest reachable from an archive's index.json, with its descriptor. */
async function collectManifests(roots: Descriptor[], byDigest: Map<Digest, StagedBlob>): Promise<{ descriptor: Descriptor; manifest: ImageManifest }[]> {
  const out: { descriptor: Descriptor; manifest: ImageManifest }[] = [];
  const queue = [...roots];
  while (queue.length > 0) {
    const d = queue.shift()!;
    const f = byDigest.get(d.digest);
    if (!f || (!isIndexType(d.mediaType) && !isManifestType(d.mediaType))) continue;
    const parsed = parseManifest(await readSmallBlob(f), d.mediaType);
    if (parsed.kind === 'index') queue.push(...parsed.index.manifests);
    else out.push({ descriptor: bareDescriptor(d), manifest: parsed.manifest });
  }
  return out;
}

/**
 * Builds an OCI manifest for a docker-archive image that came without one, after checking
 * each layer against the config's diff_ids (decompressing compressed layers to do so).
 */
async function synthesize(
  config: ImageConfig,
  cfgFile: StagedBlob,
  layerFiles: StagedBlob[],
  blobs: BlobStore,
  needed: Map<Digest, StagedBlob>,
  infos: Map<Digest, LayerInfo>,
): Promise<Descriptor> {
  const layers: BareLayer[] = [];
  for (const [i, f] of layerFiles.entries()) {
    const compression = await checkLayer(f, i, config.rootfs.diff_ids[i]!, infos);
    layers.push({ digest: f.digest, size: f.size, compression });
    needed.set(f.digest, f);
  }
  needed.set(cfgFile.digest, cfgFile);
  const manifest = synthesizedManifest(cfgFile, layers, 'oci');
  const bytes = Buffer.from(JSON.stringify(manifest));
  const m = await blobs.stageBytes(bytes);
  needed.set(m.digest, m);
  return { mediaType: manifest.mediaType!, digest: m.digest, size: m.size };
}
