/**
 * An OCI image layout directory (`oci-layout`, `index.json`, `blobs/sha256/<hex>`), as skopeo's
 * `oci:DIR:REF`, umoci and oras read and write it, as a copy source and destination. Names are
 * index.json entries' `org.opencontainers.image.ref.name` annotations.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { DigestMismatchError, InvalidContentError } from '../errors.js';
import type { Descriptor } from '../image/descriptor.js';
import { REF_NAME_ANNOTATION, bareDescriptor } from '../image/descriptor.js';
import { digestOf, verifiedChunks } from '../image/digest.js';
import type { BlobInfo, BlobReader, CopiedImage, ImageDestination } from '../image/endpoint.js';
import { parseJson } from '../image/manifest.js';
import { OCI_INDEX } from '../image/media-types.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import type { LayoutFiles } from './layout-source.js';
import { LayoutSource, MAX_MANIFEST_BYTES, blobName, indexImages, selectImage } from './layout-source.js';

/** The `oci-layout` file's content. */
export const OCI_LAYOUT_FILE = '{"imageLayoutVersion":"1.0.0"}';

/** A layout directory's files. */
class DirFiles implements LayoutFiles {
  readonly what: string;
  constructor(private readonly dir: string) {
    this.what = `OCI layout ${dir}`;
  }

  async size(name: string): Promise<number | undefined> {
    const st = await stat(join(this.dir, name)).catch(() => undefined);
    return st?.isFile() ? st.size : undefined;
  }

  async readSmall(name: string, limit: number): Promise<Buffer> {
    const size = await this.size(name);
    if (size === undefined) throw new InvalidContentError(`invalid ${this.what}: missing ${name}`);
    if (size > limit) throw new InvalidContentError(`invalid ${this.what}: ${name} is too large (${size} bytes)`);
    return readFile(join(this.dir, name));
  }

  stream(name: string, start: number): Readable {
    return createReadStream(join(this.dir, name), { start, highWaterMark: 256 * 1024 });
  }
}

/** Reads and checks a layout's `oci-layout` and `index.json`; returns index.json's bytes. */
async function readLayout(files: LayoutFiles): Promise<Buffer> {
  if ((await files.size('oci-layout')) === undefined) throw new InvalidContentError(`invalid ${files.what}: no oci-layout file: not an OCI image layout`);
  const layout = parseJson<{ imageLayoutVersion?: unknown }>(await files.readSmall('oci-layout', 64 * 1024), `${files.what}: oci-layout`);
  if (layout?.imageLayoutVersion !== '1.0.0') throw new InvalidContentError(`invalid ${files.what}: unsupported imageLayoutVersion ${JSON.stringify(layout?.imageLayoutVersion)}`);
  if ((await files.size('index.json')) === undefined) throw new InvalidContentError(`invalid ${files.what}: no index.json`);
  return files.readSmall('index.json', MAX_MANIFEST_BYTES);
}

/**
 * A layout's images, each root checked to be present with its size: a layout whose index.json
 * points at a missing blob is refused when opened. `ref` picks the one image of that ref name.
 */
export async function openLayout(files: LayoutFiles, ref: string | undefined): Promise<LayoutSource> {
  const all = indexImages(await readLayout(files), files.what);
  const images = ref === undefined && all.length !== 1 ? all : [selectImage(all, ref, files.what)];
  const source = new LayoutSource(files, images);
  for (const im of images) await source.manifest(im.root);
  return source;
}

/** An OCI layout directory as a copy source. */
export class OciLayoutSource extends LayoutSource {
  /**
   * Opens the layout at `dir`: with `ref`, the image whose ref name it is (NotFoundError
   * otherwise); without, every image (`image` is then the only one, or an error).
   */
  static async open(dir: string, ref?: string): Promise<OciLayoutSource> {
    const files = new DirFiles(dir);
    const s = await openLayout(files, ref);
    return new OciLayoutSource(files, s.images);
  }
}

/** An index.json entry as a copy names it: the target with its ref name. */
function namedEntry(target: Descriptor, name: string | undefined): Descriptor {
  return name === undefined ? bareDescriptor(target) : { ...bareDescriptor(target), annotations: { [REF_NAME_ANNOTATION]: name } };
}

/**
 * index.json's entries after `images` are named: an entry with the same ref name is replaced
 * (as skopeo replaces it); an image without names is added by digest unless an entry points at it.
 */
export function namedEntries(existing: Descriptor[], images: CopiedImage[]): Descriptor[] {
  let out = [...existing];
  for (const im of images) {
    if (im.names.length === 0) {
      if (!out.some((d) => d.digest === im.target.digest)) out.push(namedEntry(im.target, undefined));
      continue;
    }
    for (const name of im.names) {
      out = out.filter((d) => d.annotations?.[REF_NAME_ANNOTATION] !== name);
      out.push(namedEntry(im.target, name));
    }
  }
  return out;
}

/** An OCI layout directory as a copy destination (created when missing). */
export class OciLayoutDestination implements ImageDestination {
  private ready: Promise<void> | undefined;

  /** The layout at `dir`; nothing is written before the first blob. */
  constructor(readonly dir: string) {}

  /** True when `blobs/sha256/<hex>` is a file of the blob's size. */
  async has(d: Descriptor, _info?: BlobInfo): Promise<boolean> {
    const st = await stat(join(this.dir, blobName(d.digest))).catch(() => undefined);
    return st?.isFile() === true && st.size === d.size;
  }

  /** A config (small blob) the layout holds, verified; undefined when absent or wrong. */
  async readBlob(d: Descriptor): Promise<Buffer | undefined> {
    if (d.size > MAX_MANIFEST_BYTES || !(await this.has(d))) return undefined;
    const bytes = await readFile(join(this.dir, blobName(d.digest))).catch(() => undefined);
    return bytes && bytes.length === d.size && digestOf(bytes) === d.digest ? bytes : undefined;
  }

  /** Streams the blob (from byte 0) into a temp file, verifying it, and renames it into `blobs/`. */
  async put(d: Descriptor, read: BlobReader, progress: (done: number) => void, _info?: BlobInfo): Promise<'transferred' | 'exists'> {
    if (await this.has(d)) return 'exists';
    await this.init();
    const { stream } = await read(0);
    await this.write(d, stream as AsyncIterable<Buffer>, progress, () => stream.destroy());
    return 'transferred';
  }

  /** Writes a manifest's exact bytes as a blob (names are given at commit). */
  async putManifest(d: Descriptor, bytes: Buffer, _names: string[]): Promise<void> {
    if (bytes.length !== d.size || digestOf(bytes) !== d.digest) throw new DigestMismatchError(`manifest ${d.digest}: its bytes do not match the descriptor`);
    if (await this.has(d)) return;
    await this.init();
    await this.write(d, [bytes], () => undefined, () => undefined);
  }

  /** True when index.json names `root` by every one of `names` (by digest when empty) and holds its blob. */
  async upToDate(root: Descriptor, names: string[]): Promise<boolean> {
    if (!(await this.has(root))) return false;
    const entries = await this.entries().catch(() => undefined);
    if (!entries) return false;
    if (names.length === 0) return entries.some((e) => e.digest === root.digest);
    return names.every((n) => entries.some((e) => e.digest === root.digest && e.annotations?.[REF_NAME_ANNOTATION] === n));
  }

  /** Adds or replaces index.json entries for each image's names, written atomically; true when it changed. */
  async commit(images: CopiedImage[]): Promise<boolean> {
    await this.init();
    const before = await this.entries();
    const after = namedEntries(before, images);
    if (JSON.stringify(after) === JSON.stringify(before)) return false;
    await writeFileAtomic(join(this.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: after }));
    return true;
  }

  /** index.json's entries now. */
  private async entries(): Promise<Descriptor[]> {
    const bytes = await readFile(join(this.dir, 'index.json'));
    const doc = parseJson<{ manifests?: Descriptor[] }>(bytes, `OCI layout ${this.dir}: index.json`);
    if (!Array.isArray(doc?.manifests)) throw new InvalidContentError(`invalid OCI layout ${this.dir}: index.json has no manifests`);
    return doc.manifests;
  }

  /** Creates the layout (oci-layout, an empty index.json, blobs/sha256) where it is missing. */
  private init(): Promise<void> {
    this.ready ??= (async () => {
      await mkdir(join(this.dir, 'blobs', 'sha256'), { recursive: true });
      const layout = await readFile(join(this.dir, 'oci-layout'), 'utf8').catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return undefined;
        throw e;
      });
      if (layout === undefined) await writeFileAtomic(join(this.dir, 'oci-layout'), OCI_LAYOUT_FILE);
      else if (parseJson<{ imageLayoutVersion?: unknown }>(layout, `OCI layout ${this.dir}: oci-layout`)?.imageLayoutVersion !== '1.0.0') {
        throw new InvalidContentError(`invalid OCI layout ${this.dir}: unsupported oci-layout version`);
      }
      const hasIndex = await stat(join(this.dir, 'index.json')).then(() => true, () => false);
      if (!hasIndex) await writeFileAtomic(join(this.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] }));
    })();
    this.ready.catch(() => {
      this.ready = undefined;
    });
    return this.ready;
  }

  /** Streams `chunks` to a temp file in the layout's root, checks them against `d`, renames the file into `blobs/`. */
  private async write(d: Descriptor, chunks: AsyncIterable<Buffer> | Iterable<Buffer>, progress: (done: number) => void, stop: () => void): Promise<void> {
    const tmp = join(this.dir, `.oci-put-blob-${process.pid}-${randomBytes(6).toString('hex')}`);
    const fh = await open(tmp, 'wx', 0o644);
    try {
      for await (const chunk of verifiedChunks(toAsync(chunks), d, `blob ${d.digest}`, progress)) {
        for (let off = 0; off < chunk.length;) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
      }
      await fh.sync();
      await fh.close();
      await rename(tmp, join(this.dir, blobName(d.digest)));
    } catch (err) {
      stop();
      await fh.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }
}

/** Chunks in memory or streamed, as one async iterable. */
async function* toAsync(chunks: AsyncIterable<Buffer> | Iterable<Buffer>): AsyncGenerator<Buffer> {
  yield* chunks;
}
