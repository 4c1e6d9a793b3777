/** Images as the commands see them: index entries grouped by what they point at, resolved to a config. */
import { NotFoundError, StoreError } from '../errors.js';
import type { ImageConfig } from '../image/config.js';
import type { Descriptor, Platform } from '../image/descriptor.js';
import { bareDescriptor } from '../image/descriptor.js';
import type { Digest } from '../image/digest.js';
import { shortId } from '../image/digest.js';
import type { ImageManifest } from '../image/manifest.js';
import { parseConfig, parseManifest } from '../image/manifest.js';
import { isImageConfig } from '../image/media-types.js';
import { formatPlatform, hostPlatform, platformMatches } from '../image/platform.js';
import { parseReference } from '../reference/index.js';
import type { BlobStore } from './blobs.js';
import type { OciIndex } from './index-file.js';
import { entryName } from './index-file.js';

/**
 * One platform of an image: an entry of its index (or, for a single-manifest image, the manifest
 * itself), and whether the store holds it. The store keeps an index whose platforms are present
 * or not (docker 29's containerd store does): `pull --platform` fetches one, the others stay
 * absent until pulled.
 */
export interface PlatformEntry {
  /** The platform the index entry declares (a single manifest: its config's); undefined when it declares none. */
  platform: Platform | undefined;
  /** The platform manifest (bare: no annotations or platform). */
  descriptor: Descriptor;
  /** True when the store holds the manifest, its config and every layer (a present manifest lacking any is damage). */
  present: boolean;
  /** True for a manifest whose config is not an image config (an attestation, a signature): not runnable. */
  artifact: boolean;
}

/** One image in the store: a root descriptor with its names, resolved to one platform image. */
export interface ImageRecord {
  /** What the index entries point at (a manifest, or an index for multi-platform images). */
  descriptor: Descriptor;
  /** Full references naming it, sorted; empty for a dangling image. */
  names: string[];
  /** The image ID ({@link imageId}): the config digest of a single manifest, the index digest of an index. */
  id: Digest;
  /** The single-platform manifest chosen (the root itself unless the root is an index). */
  manifestDescriptor: Descriptor;
  manifest: ImageManifest;
  config: ImageConfig;
  /** Every platform in index order (a single manifest: its one), present or not. */
  platforms: PlatformEntry[];
  /** Bytes the image's blobs take in the store: the root, and every present platform's manifest, config and layers as stored (a blob shared by platforms counted once). */
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

/**
 * The IMAGE ID of an image whose root is `root`: a single manifest keeps docker's classic ID, its
 * config digest (what users of the store have today); an index (OCI index or Docker manifest
 * list) gets docker 29's containerd-store ID, the index digest, whichever platforms are present.
 * `rootManifest`: the root parsed, when it is a manifest; undefined when it is an index.
 */
export function imageId(root: Descriptor, rootManifest: ImageManifest | undefined): Digest {
  return rootManifest ? rootManifest.config.digest : root.digest;
}

/** The platforms of an image the store holds (the ones `save --platform` and `push --platform` may pick). */
export function presentPlatforms(r: ImageRecord): PlatformEntry[] {
  return r.platforms.filter((p) => p.present);
}

/** The platforms of an index the store does not hold (pull them with `--platform`; `push` needs none missing). */
export function missingPlatforms(r: ImageRecord): PlatformEntry[] {
  return r.platforms.filter((p) => !p.present);
}

/**
 * The entry of platform `want` (docker's matching: variant only if asked), preferring a present
 * one; undefined when the image has no such platform at all. Attestations never match.
 */
export function findPlatform(r: ImageRecord, want: Platform): PlatformEntry | undefined {
  const matching = r.platforms.filter((p) => !p.artifact && platformMatches(p.platform, want));
  return matching.find((p) => p.present) ?? matching[0];
}

/** How a platform entry is named in a message: `linux/arm64`, `unknown` when it declares none. */
export function platformLabel(p: PlatformEntry): string {
  return p.platform ? formatPlatform(p.platform) : 'unknown';
}

/**
 * The one-line error for a command that needs every platform of an index image (`push`, `save`
 * without `--platform`) when some are not in the store; undefined when none is missing.
 * `label`: the image as the user named it; `verb`: the command, for the hint.
 */
export function missingPlatformsError(r: ImageRecord, label: string, verb: string): NotFoundError | undefined {
  const missing = missingPlatforms(r);
  if (missing.length === 0) return undefined;
  const present = [...new Set(presentPlatforms(r).filter((p) => !p.artifact).map(platformLabel))];
  return new NotFoundError(`image ${label} has platforms that are not in the store: ${[...new Set(missing.map(platformLabel))].join(', ')}; ${verb} one with --platform ${present.join(' or --platform ')}`);
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
    const parsed = await this.parse(root, 'manifest');
    state.size += root.size;
    const counted = new Set<Digest>([root.digest]);
    if (parsed.kind === 'manifest') {
      state.id = parsed.manifest.config.digest;
      const image = await this.platformImage(root, parsed.manifest, counted, state, true);
      const config = image.config!;
      const platform: Platform = { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) };
      return this.record(root, image.desc, parsed.manifest, config, [{ platform, descriptor: root, present: true, artifact: false }], state.size);
    }
    const platforms: PlatformEntry[] = [];
    const images: Array<{ desc: Descriptor; platform: Platform | undefined; manifest: ImageManifest; config: ImageConfig }> = [];
    for (const c of parsed.index.manifests) {
      const desc = bareDescriptor(c);
      // A child the store does not hold is a platform not pulled: absent, not damage.
      if (!(await this.blobs.has(c.digest))) {
        platforms.push({ platform: c.platform, descriptor: desc, present: false, artifact: false });
        continue;
      }
      state.desc = desc;
      if (!counted.has(c.digest)) state.size += c.size;
      counted.add(c.digest);
      const child = await this.parse(c, 'manifest');
      if (child.kind !== 'manifest') throw new Damage(`index ${root.digest} holds a nested index ${c.digest}`);
      const image = await this.platformImage(desc, child.manifest, counted, state);
      platforms.push({ platform: c.platform, descriptor: desc, present: true, artifact: image.config === undefined });
      if (image.config) images.push({ desc, platform: c.platform, manifest: child.manifest, config: image.config });
    }
    // This machine's platform if present, else the first present one (attestations are not platforms).
    const chosen = images.find((i) => platformMatches(i.platform, hostPlatform())) ?? images[0];
    if (!chosen) throw new Damage(`index ${root.digest} has no platform manifest in the store`);
    state.desc = chosen.desc;
    return this.record(root, chosen.desc, chosen.manifest, chosen.config, platforms, state.size);
  }

  /**
   * Checks that a present platform manifest's config and layers are all in the store, adding the
   * bytes of those not `counted` yet; parses its config when it is an image config (undefined for
   * an artifact's: an attestation or a signature has no platform to run).
   */
  private async platformImage(desc: Descriptor, manifest: ImageManifest, counted: Set<Digest>, state: { size: number }, root = false): Promise<{ desc: Descriptor; config: ImageConfig | undefined }> {
    // Within one manifest every layer counts, as it always has; a blob of an earlier platform does not count twice.
    const earlier = new Set(counted);
    const present = async (d: Descriptor): Promise<boolean> => {
      if (!(await this.blobs.has(d.digest))) return false;
      if (!earlier.has(d.digest)) state.size += d.size;
      counted.add(d.digest);
      return true;
    };
    const configBytes = (await present(manifest.config)) ? await this.read(manifest.config.digest) : undefined;
    const missing: Digest[] = [];
    if (!configBytes) missing.push(manifest.config.digest);
    for (const l of manifest.layers) if (!(await present(l))) missing.push(l.digest);
    if (missing.length > 0) {
      throw new Damage(missing.length === 1 ? `blob ${missing[0]} is missing` : `blobs ${missing[0]} and ${missing.length - 1} more are missing`);
    }
    // A root manifest is read as an image whatever its config's type (as it always was: the store keeps images only).
    if (!root && !isImageConfig(manifest.config.mediaType)) return { desc, config: undefined };
    try {
      return { desc, config: parseConfig(configBytes!) };
    } catch (err) {
      throw new Damage(notJson(configBytes!) ? `config ${manifest.config.digest} is not valid JSON` : `config ${manifest.config.digest} is invalid: ${(err as Error).message}`);
    }
  }

  private record(root: Descriptor, desc: Descriptor, manifest: ImageManifest, config: ImageConfig, platforms: PlatformEntry[], size: number): ImageRecord {
    const created = config.created ? new Date(config.created) : undefined;
    return {
      descriptor: root,
      names: [],
      id: imageId(root, desc.digest === root.digest ? manifest : undefined),
      manifestDescriptor: desc,
      manifest,
      config,
      platforms,
      size,
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

/**
 * What pushing, saving or copying `r` sends: the root as it is (an index needs every platform in
 * the store: a registry refuses an index whose manifests it lacks, an archive would be
 * incomplete), or with `platform` that platform's manifest alone. `label`: the image's familiar
 * name, `verb`: the command, for messages.
 */
export function exportRoot(r: ImageRecord, platform: Platform | undefined, label: string, verb: string): Descriptor {
  const isIndex = r.manifestDescriptor.digest !== r.descriptor.digest;
  if (!platform) {
    const missing = missingPlatformsError(r, label, verb);
    if (missing) throw missing;
    return r.descriptor;
  }
  const wanted = formatPlatform(platform);
  if (!isIndex) {
    const own = r.platforms[0]?.platform;
    if (platformMatches(own, platform)) return r.descriptor;
    // docker's words for a single-platform image of another platform.
    throw new NotFoundError(`image with reference ${label} was found but does not match the specified platform: wanted ${wanted}, actual: ${own ? formatPlatform(own) : 'unknown'}`);
  }
  const entry = findPlatform(r, platform);
  if (!entry) throw new NotFoundError(`no matching manifest for ${wanted} in the manifest list entries`);
  if (!entry.present) throw new NotFoundError(`platform ${wanted} of image ${label} is not in the store; pull it with: ts-docker pull --platform ${wanted} ${label}`);
  // The platform's manifest is the root: the copy reads it (from the store) and its blobs, nothing of the index.
  return entry.descriptor;
}
