/**
 * An OCI image layout read as a copy source, wherever its files are (a directory, a tar read in
 * place): index.json's entries as images, `ref` resolved through their
 * `org.opencontainers.image.ref.name` annotation, manifests and blobs served from
 * `blobs/sha256/<hex>` and verified against their digests as they are read.
 */
import { Readable } from 'node:stream';
import { DigestMismatchError, InvalidArgumentError, InvalidContentError, NotFoundError } from '../errors.js';
import type { Descriptor } from '../image/descriptor.js';
import { REF_NAME_ANNOTATION, bareDescriptor } from '../image/descriptor.js';
import type { Digest } from '../image/digest.js';
import { digestOf, hexOf, verifiedChunks } from '../image/digest.js';
import type { BlobRead, ImageSource } from '../image/endpoint.js';
import { parseManifest } from '../image/manifest.js';
import { OCI_INDEX } from '../image/media-types.js';
import { referrerInfo } from '../image/referrer.js';

/** One image a source offers: its root (what index.json points at) and its names there. */
export interface SourceImage {
  root: Descriptor;
  /** The names it has in the source (an OCI layout's ref names; full references in a docker-archive). */
  names: string[];
}

/** The largest manifest, index or index.json read into memory. */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

/** A layout's files, by name relative to its root. */
export interface LayoutFiles {
  /** Names the layout in messages (`OCI layout DIR`, `archive FILE`). */
  readonly what: string;
  /** The size of the regular file at `name`; undefined when there is none. */
  size(name: string): Promise<number | undefined>;
  /** A small file's bytes (at most `limit`). */
  readSmall(name: string, limit: number): Promise<Buffer>;
  /** The file's bytes from `start`. */
  stream(name: string, start: number): Readable;
  /** Releases what opening took (a decompressed temp copy). */
  close?(): Promise<void>;
}

/** Where a blob is in a layout. */
export function blobName(d: Digest): string {
  return `blobs/sha256/${hexOf(d)}`;
}

/**
 * The images of an index.json, entries of one digest merged, named by `namesOf` (default: the
 * entry's ref name, as an OCI layout names it).
 */
export function indexImages(bytes: Buffer, what: string, namesOf: (d: Descriptor) => string[] = refNames): SourceImage[] {
  let parsed;
  try {
    parsed = parseManifest(bytes, OCI_INDEX);
  } catch (err) {
    throw new InvalidContentError(`invalid ${what}: index.json: ${(err as Error).message}`, { cause: err });
  }
  if (parsed.kind !== 'index') throw new InvalidContentError(`invalid ${what}: index.json is not an image index`);
  const out: SourceImage[] = [];
  for (const d of parsed.index.manifests) {
    const names = namesOf(d);
    const prev = out.find((im) => im.root.digest === d.digest);
    if (prev) prev.names.push(...names.filter((n) => !prev.names.includes(n)));
    else out.push({ root: bareDescriptor(d), names: [...new Set(names)] });
  }
  return out;
}

/** An OCI layout entry's name: its `org.opencontainers.image.ref.name`. */
function refNames(d: Descriptor): string[] {
  const name = d.annotations?.[REF_NAME_ANNOTATION];
  return name === undefined ? [] : [name];
}

/**
 * The image `ref` names among `images` (`match` says whether a name is it), or the only image
 * when `ref` is undefined. Throws NotFoundError / InvalidArgumentError with one line.
 */
export function selectImage(images: SourceImage[], ref: string | undefined, what: string, match: (name: string) => boolean = (n) => n === ref): SourceImage {
  if (ref === undefined) {
    if (images.length === 1) return images[0]!;
    if (images.length === 0) throw new NotFoundError(`${what} holds no image`);
    throw new InvalidArgumentError(`${what} holds ${images.length} images: name the one to use`);
  }
  const found = images.find((im) => im.names.some(match));
  if (!found) throw new NotFoundError(`no image named "${ref}" in ${what}`);
  return { root: found.root, names: found.names.filter(match) };
}

/** The layout as an image source; see the file comment. */
export class LayoutSource implements ImageSource {
  /**
   * `images`: what the source offers. `located`: blobs that are not at `blobs/sha256/<hex>`
   * (a docker-archive's `<hex>.tar`), by digest. `inMemory`: manifests made up for the archive.
   */
  constructor(
    protected readonly files: LayoutFiles,
    readonly images: SourceImage[],
    private readonly located: ReadonlyMap<Digest, string> = new Map(),
    private readonly inMemory: ReadonlyMap<Digest, Buffer> = new Map(),
  ) {}

  /** The only image (the one `ref` chose when it was opened); throws when there are several. */
  get image(): SourceImage {
    return selectImage(this.images, undefined, this.files.what);
  }

  /** Releases what opening took (an archive's decompressed temp copy); the source is unusable after. */
  async close(): Promise<void> {
    await this.files.close?.();
  }

  /** The manifest's bytes, verified against `d`. */
  async manifest(d: Descriptor): Promise<Buffer> {
    const made = this.inMemory.get(d.digest);
    if (made) return made;
    if (d.size > MAX_MANIFEST_BYTES) throw new InvalidContentError(`invalid ${this.files.what}: manifest ${d.digest} is too large (${d.size} bytes)`);
    const name = await this.present(d, 'manifest');
    const bytes = await this.files.readSmall(name, MAX_MANIFEST_BYTES);
    if (digestOf(bytes) !== d.digest) throw new DigestMismatchError(`invalid ${this.files.what}: manifest ${d.digest} does not match its digest`);
    return bytes;
  }

  /** A blob's bytes from `offset`, hashed from byte 0 as they are read: a wrong blob fails at its end. */
  async blob(d: Descriptor, offset: number): Promise<BlobRead> {
    const made = this.inMemory.get(d.digest);
    if (made) return { stream: Readable.from(offset < made.length ? [made.subarray(offset)] : []), resumed: true };
    const name = await this.present(d, 'blob');
    return { stream: verified(this.files.stream(name, 0), d, offset, this.files.what), resumed: true };
  }

  /**
   * The manifests of index.json whose `subject` is `d` (signatures, SBOMs a copy wrote here by
   * digest): the OCI image layout keeps referrers as entries of its index.
   */
  async referrers(d: Descriptor): Promise<Descriptor[]> {
    if ((await this.files.size('index.json')) === undefined) return [];
    const out: Descriptor[] = [];
    for (const im of indexImages(await this.files.readSmall('index.json', MAX_MANIFEST_BYTES), this.files.what)) {
      if (im.root.digest === d.digest || (await this.files.size(blobName(im.root.digest))) === undefined) continue;
      const info = referrerInfo(await this.manifest(im.root));
      if (info.subject?.digest === d.digest) out.push({ ...im.root, ...(info.artifactType ? { artifactType: info.artifactType } : {}) });
    }
    return out;
  }

  /** Checks that the layout holds `d` with its size (one line otherwise); returns its file name. */
  protected async present(d: Descriptor, what: string): Promise<string> {
    const name = this.located.get(d.digest) ?? blobName(d.digest);
    const size = await this.files.size(name);
    if (size === undefined) throw new InvalidContentError(`invalid ${this.files.what}: ${what} ${d.digest} is missing`);
    if (size !== d.size) throw new DigestMismatchError(`invalid ${this.files.what}: ${what} ${d.digest} has size ${size}, expected ${d.size}`);
    return name;
  }
}

/**
 * The bytes of `src` (a whole blob) from `offset`, hashed from byte 0; the stream fails with
 * DigestMismatchError at its end when the blob is not `d`.
 */
export function verified(src: Readable, d: Descriptor, offset: number, what: string): Readable {
  async function* check(): AsyncGenerator<Buffer> {
    let n = 0;
    try {
      for await (const chunk of verifiedChunks(src as AsyncIterable<Buffer>, d, `invalid ${what}: blob ${d.digest}`)) {
        const start = n;
        n += chunk.length;
        if (n <= offset) continue;
        yield start >= offset ? chunk : chunk.subarray(offset - start);
      }
    } finally {
      src.destroy();
    }
  }
  return Readable.from(check(), { objectMode: false });
}
