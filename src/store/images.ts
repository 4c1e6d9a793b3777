/** Images as the commands see them: index entries grouped by what they point at, resolved to a config. */
import { NotFoundError, StoreError } from '../errors.js';
import type { ImageConfig } from '../image/config.js';
import type { Descriptor } from '../image/descriptor.js';
import { bareDescriptor } from '../image/descriptor.js';
import type { Digest } from '../image/digest.js';
import { shortId } from '../image/digest.js';
import type { ImageManifest } from '../image/manifest.js';
import { parseConfig, parseManifest } from '../image/manifest.js';
import { hostPlatform, platformMatches } from '../image/platform.js';
import { parseReference } from '../reference/index.js';
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
  /** Never set: an image that cannot be resolved is a {@link DamagedImage}. */
  damaged?: undefined;
}

/**
 * An image the store cannot resolve: a blob it needs is missing, or its manifest or config does
 * not parse. It is listed, counted and removable like any other, never read.
 */
export interface DamagedImage {
  descriptor: Descriptor;
  names: string[];
  /** The config digest when the manifest could be read, else the root digest (so `rmi ID` finds it). */
  id: Digest;
  /** The platform manifest, as far as it was reached. */
  manifestDescriptor: Descriptor;
  /** Bytes of the blobs it names that the store holds (descriptors' sizes, as for a good image). */
  size: number;
  created: undefined;
  /** What is wrong, in a few words: `blob sha256:... is missing`, `config sha256:... is not valid JSON`. */
  damaged: string;
}

/** An image as the store holds it: resolved, or damaged. */
export type StoredImage = ImageRecord | DamagedImage;

/** How a command names an image in a message: its first name (familiar form), else its short ID. */
export function imageLabel(r: { names: string[]; id: Digest }): string {
  const name = r.names[0];
  if (name === undefined) return shortId(r.id);
  try {
    return parseReference(name).familiar;
  } catch {
    return name;
  }
}

/** The one-line error for a command that needs the content of a damaged image. */
export class DamagedImageError extends StoreError {
  /** `name`: the full reference the user gave, when the image was found by it. */
  constructor(readonly image: DamagedImage, name?: string) {
    const label = imageLabel(name === undefined ? image : { names: [name], id: image.id });
    super(`image ${label} is damaged: ${image.damaged}; remove it with: ts-docker rmi ${label}`);
  }
}

/** The record of a resolvable image; throws {@link DamagedImageError} for a damaged one. */
export function usable(r: StoredImage, name?: string): ImageRecord {
  if (r.damaged !== undefined) throw new DamagedImageError(r, name);
  return r;
}

/** What went wrong while resolving, as a reason. */
class Damage extends Error {}

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
  private readonly cache = new Map<Digest, Promise<StoredImage>>();
  constructor(private readonly blobs: BlobStore) {}

  /** Every resolvable image in the index, newest first (docker's order), dangling ones included; damaged ones left out. */
  async all(index: OciIndex): Promise<ImageRecord[]> {
    return (await this.allStored(index)).filter((r): r is ImageRecord => r.damaged === undefined);
  }

  /** Every image in the index, damaged ones included, newest first (damaged ones last). */
  async allStored(index: OciIndex): Promise<StoredImage[]> {
    const records = await Promise.all(groupByDigest(index).map(async ({ d, names }) => ({ ...(await this.resolveStored(d)), names })));
    return records.sort(newestFirst);
  }

  /** Resolves one root descriptor (names left empty); throws {@link DamagedImageError} for a damaged image. */
  async resolve(d: Descriptor): Promise<ImageRecord> {
    return usable(await this.resolveStored(d));
  }

  /** Resolves one root descriptor (names left empty), to a damaged record when it cannot be read. */
  resolveStored(d: Descriptor): Promise<StoredImage> {
    let p = this.cache.get(d.digest);
    if (!p) {
      p = this.load(bareDescriptor(d));
      this.cache.set(d.digest, p);
    }
    return p;
  }

  /** A blob's bytes; a missing one is damage. */
  private async read(d: Digest): Promise<Buffer> {
    try {
      return await this.blobs.read(d);
    } catch (err) {
      if (err instanceof NotFoundError) throw new Damage(`blob ${d} is missing`);
      throw err;
    }
  }

  private async parse(d: Descriptor, what: string): Promise<ReturnType<typeof parseManifest>> {
    const bytes = await this.read(d.digest);
    try {
      return parseManifest(bytes, d.mediaType);
    } catch (err) {
      throw new Damage(notJson(bytes) ? `${what} ${d.digest} is not valid JSON` : `${what} ${d.digest} is invalid: ${(err as Error).message}`);
    }
  }

  private async load(root: Descriptor): Promise<StoredImage> {
    const state = { id: root.digest, desc: root, size: 0 };
    try {
      return await this.loadInto(root, state);
    } catch (err) {
      if (!(err instanceof Damage)) throw err;
      return { descriptor: root, names: [], id: state.id, manifestDescriptor: state.desc, size: state.size, created: undefined, damaged: err.message };
    }
  }

  private async loadInto(root: Descriptor, state: { id: Digest; desc: Descriptor; size: number }): Promise<ImageRecord> {
    let desc = root;
    let parsed = await this.parse(desc, 'manifest');
    state.size += desc.size;
    while (parsed.kind === 'index') {
      const children = parsed.index.manifests;
      const present: Descriptor[] = [];
      for (const c of children) if (await this.blobs.has(c.digest)) present.push(c);
      const chosen = present.find((c) => platformMatches(c.platform, hostPlatform())) ?? present[0];
      if (!chosen) throw new Damage(`index ${root.digest} has no platform manifest in the store`);
      for (const c of present) state.size += c.size;
      desc = chosen;
      state.desc = desc;
      parsed = await this.parse(desc, 'manifest');
    }
    const manifest = parsed.manifest;
    state.id = manifest.config.digest;
    const present = async (d: Descriptor): Promise<boolean> => {
      if (!(await this.blobs.has(d.digest))) return false;
      state.size += d.size;
      return true;
    };
    const configBytes = (await present(manifest.config)) ? await this.read(manifest.config.digest) : undefined;
    const missing: Digest[] = [];
    if (!configBytes) missing.push(manifest.config.digest);
    for (const l of manifest.layers) if (!(await present(l))) missing.push(l.digest);
    if (missing.length > 0) {
      throw new Damage(missing.length === 1 ? `blob ${missing[0]} is missing` : `blobs ${missing[0]} and ${missing.length - 1} more are missing`);
    }
    let config: ImageConfig;
    try {
      config = parseConfig(configBytes!);
    } catch (err) {
      throw new Damage(notJson(configBytes!) ? `config ${manifest.config.digest} is not valid JSON` : `config ${manifest.config.digest} is invalid: ${(err as Error).message}`);
    }
    const created = config.created ? new Date(config.created) : undefined;
    return {
      descriptor: root,
      names: [],
      id: manifest.config.digest,
      manifestDescriptor: desc,
      manifest,
      config,
      size: state.size,
      created: created && !Number.isNaN(created.getTime()) ? created : undefined,
    };
  }
}

function notJson(bytes: Buffer): boolean {
  try {
    JSON.parse(bytes.toString('utf8'));
    return false;
  } catch {
    return true;
  }
}
