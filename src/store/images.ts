/** Images as the commands see them: index entries grouped by what they point at, resolved to a config. */
import type { ImageConfig } from '../image/config.js';
import type { Descriptor } from '../image/descriptor.js';
import { bareDescriptor } from '../image/descriptor.js';
import type { Digest } from '../image/digest.js';
import type { ImageManifest } from '../image/manifest.js';
import { parseConfig, parseManifest } from '../image/manifest.js';
import { hostPlatform, platformMatches } from '../image/platform.js';
import type { BlobStore } from './blobs.js';
import type { OciIndex } from './index-file.js';
import { entryName } from './index-file.js';

/** One image in the store: a root descriptor with its names, resolved to one platform image. */
export interface ImageRecord {
  /** What the index entries point at (a manifest, or an index for multi-platform images). */
  descriptor: Descriptor;
  /** Full references naming it, sorted; empty for a dangling image. */
  names: string[];
  /** The image ID: the config digest of the resolved manifest. */
  id: Digest;
  /** The single-platform manifest chosen (the root itself unless the root is an index). */
  manifestDescriptor: Descriptor;
  manifest: ImageManifest;
  config: ImageConfig;
  /** Bytes the image's blobs take in the store: manifest(s), config and layers as stored. */
  size: number;
  /** Creation time from the config, if it has one. */
  created: Date | undefined;
}

/** The index's entries grouped by the digest they point at (first entry's descriptor, sorted names), in index order. */
export function groupByDigest(index: OciIndex): { d: Descriptor; names: string[] }[] {
  const groups = new Map<Digest, { d: Descriptor; names: string[] }>();
  for (const d of index.manifests) {
    const g = groups.get(d.digest) ?? { d, names: [] };
    const name = entryName(d);
    if (name !== undefined) g.names.push(name);
    groups.set(d.digest, g);
  }
  const list = [...groups.values()];
  for (const g of list) g.names.sort();
  return list;
}

/** docker's order of images: newest first (stable, so equal times keep index order). */
export function newestFirst(a: { created: Date | undefined }, b: { created: Date | undefined }): number {
  return (b.created?.getTime() ?? 0) - (a.created?.getTime() ?? 0);
}

/** Reads index entries into image records, caching blob reads by digest. */
export class ImageReader {
  private readonly cache = new Map<Digest, Promise<ImageRecord>>();
  constructor(private readonly blobs: BlobStore) {}

  /** Every image in the index, newest first (docker's order), dangling ones included. */
  async all(index: OciIndex): Promise<ImageRecord[]> {
    const records = await Promise.all(groupByDigest(index).map(async ({ d, names }) => ({ ...(await this.resolve(d)), names })));
    return records.sort(newestFirst);
  }

  /** Resolves one root descriptor (names left empty). */
  resolve(d: Descriptor): Promise<ImageRecord> {
    let p = this.cache.get(d.digest);
    if (!p) {
      p = this.load(bareDescriptor(d));
      this.cache.set(d.digest, p);
    }
    return p;
  }

  private async load(root: Descriptor): Promise<ImageRecord> {
    let size = 0;
    let desc = root;
    let parsed = parseManifest(await this.blobs.read(desc.digest), desc.mediaType);
    size += desc.size;
    while (parsed.kind === 'index') {
      const children = parsed.index.manifests;
      const present: Descriptor[] = [];
      for (const c of children) if (await this.blobs.has(c.digest)) present.push(c);
      const chosen = present.find((c) => platformMatches(c.platform, hostPlatform())) ?? present[0];
      if (!chosen) throw new Error(`image ${root.digest} has no platform manifest in the store`);
      for (const c of present) size += c.size;
      desc = chosen;
      parsed = parseManifest(await this.blobs.read(desc.digest), desc.mediaType);
    }
    const manifest = parsed.manifest;
    const config = parseConfig(await this.blobs.read(manifest.config.digest));
    size += manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0);
    const created = config.created ? new Date(config.created) : undefined;
    return {
      descriptor: root,
      names: [],
      id: manifest.config.digest,
      manifestDescriptor: desc,
      manifest,
      config,
      size,
      created: created && !Number.isNaN(created.getTime()) ? created : undefined,
    };
  }
}
