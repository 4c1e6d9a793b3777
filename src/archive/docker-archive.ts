/**
 * docker's `docker save` format (skopeo's `docker-archive:FILE[:REF]`) as a copy source and
 * destination. Read in place: the archive's OCI index.json when it has one (docker 25+ and
 * ts-docker write one), else a Docker schema2 manifest made from manifest.json (Config + Layers,
 * each layer's media type by its magic bytes). Written by the one docker-archive writer
 * (write-docker-archive.ts), exactly as `ts-docker save` writes it.
 */
import { createHash } from 'node:crypto';
import type { Writable } from 'node:stream';
import { InvalidArgumentError, InvalidContentError, NotFoundError } from '../errors.js';
import type { Descriptor } from '../image/descriptor.js';
import { bareDescriptor } from '../image/descriptor.js';
import type { Digest } from '../image/digest.js';
import { digestOf } from '../image/digest.js';
import type { CopiedImage, ImageDestination } from '../image/endpoint.js';
import type { ImageManifest } from '../image/manifest.js';
import { parseConfigFor, parseManifest } from '../image/manifest.js';
import { hostPlatform, platformMatches } from '../image/platform.js';
import { parseDockerRef, parseReference } from '../reference/index.js';
import { sniffCompression } from './compression.js';
import type { BareLayer, DockerManifestEntry } from './docker-manifest-json.js';
import { archiveName, indexEntryNames, parseManifestJson, synthesizedManifest } from './docker-manifest-json.js';
import type { SourceImage } from './layout-source.js';
import { LayoutSource, MAX_MANIFEST_BYTES, indexImages } from './layout-source.js';
import { safeEntryName } from './safe-path.js';
import { TarDestination } from './tar-destination.js';
import type { TarFile } from './tar-index.js';
import { TarFiles, TarIndex } from './tar-index.js';
import type { SaveImage } from './write-docker-archive.js';
import { DockerArchiveWriter } from './write-docker-archive.js';

/** The full reference `ref` stands for (`a:1` -> `docker.io/library/a:1`), or a one-line error. */
function fullRef(ref: string): string {
  try {
    return parseDockerRef(ref).full;
  } catch (err) {
    throw new InvalidArgumentError(`invalid reference "${ref}" for a docker-archive: ${(err as Error).message}`);
  }
}

/** A tar entry's sha256 and compression, read once (streamed: a layer is never in memory). */
async function measure(tar: TarIndex, f: TarFile): Promise<{ digest: Digest; compression: BareLayer['compression'] }> {
  const hash = createHash('sha256');
  let head: Buffer | undefined;
  for await (const chunk of tar.stream(f) as AsyncIterable<Buffer>) {
    head ??= chunk.subarray(0, 8);
    hash.update(chunk);
  }
  return { digest: `sha256:${hash.digest('hex')}`, compression: sniffCompression(head ?? Buffer.alloc(0)) };
}

/** A docker-archive as a copy source. */
export class DockerArchiveSource extends LayoutSource {
  /**
   * Opens the archive at `file`: with `ref` (a name as in RepoTags, `name:tag`), the image of that
   * name (NotFoundError otherwise); without, every image (`image` is then the only one, or an error).
   * Images are named by full references (`docker.io/library/name:tag`). A gzip-compressed archive
   * is decompressed into a temp folder first ({@link close} removes it).
   */
  static async open(file: string, ref?: string): Promise<DockerArchiveSource> {
    const what = `archive ${file}`;
    const tar = await TarIndex.open(file, what);
    try {
      return await DockerArchiveSource.read(tar, what, ref);
    } catch (err) {
      await tar.close();
      throw err;
    }
  }

  private static async read(tar: TarIndex, what: string, ref: string | undefined): Promise<DockerArchiveSource> {
    const files = new TarFiles(tar, what);
    const want = ref === undefined ? undefined : fullRef(ref);
    const pick = (all: SourceImage[]): SourceImage[] => {
      if (want === undefined) {
        if (all.length === 0) throw new InvalidContentError(`invalid ${what}: it holds no image`);
        return all;
      }
      const found = all.find((im) => im.names.includes(want));
      if (!found) throw new NotFoundError(`no image named "${ref}" in ${what}`);
      return [{ root: found.root, names: [want] }];
    };
    if (tar.get('index.json')) {
      const images = pick(indexImages(await tar.readSmall('index.json', MAX_MANIFEST_BYTES), what, indexEntryNames));
      const source = new DockerArchiveSource(files, images);
      for (const im of images) await source.manifest(im.root);
      return source;
    }
    if (!tar.get('manifest.json')) throw new InvalidContentError(`invalid ${what}: no manifest.json or index.json: not a docker-archive`);
    const entries = parseManifestJson(await tar.readSmall('manifest.json', MAX_MANIFEST_BYTES));
    const named = entries.map((e) => ({ e, names: e.RepoTags.map((t) => archiveName(t, 'manifest.json')) }));
    const chosen = want === undefined ? named : named.filter((n) => n.names.includes(want));
    if (chosen.length === 0) throw new NotFoundError(`no image named "${ref}" in ${what}`);
    const located = new Map<Digest, string>();
    const made = new Map<Digest, Buffer>();
    const images: SourceImage[] = [];
    for (const { e, names } of chosen) {
      const root = await synthesize(tar, e, located, made, what);
      images.push({ root, names: want === undefined ? names : [want] });
    }
    return new DockerArchiveSource(files, images, located, made);
  }
}

/** The Docker schema2 manifest of a manifest.json entry; records where its blobs are and its bytes. */
async function synthesize(tar: TarIndex, e: DockerManifestEntry, located: Map<Digest, string>, made: Map<Digest, Buffer>, what: string): Promise<Descriptor> {
  const entry = (p: string, kind: string): TarFile => {
    const f = tar.get(safeEntryName(p));
    if (!f) throw new InvalidContentError(`invalid ${what}: missing ${kind} ${p}`);
    return f;
  };
  const cfgFile = entry(e.Config, 'config');
  const configBytes = await tar.readSmall(cfgFile.name, MAX_MANIFEST_BYTES);
  const config = { digest: digestOf(configBytes), size: configBytes.length };
  parseConfigFor(configBytes, { layers: e.Layers });
  located.set(config.digest, cfgFile.name);
  const layers: BareLayer[] = [];
  for (const p of e.Layers) {
    const f = entry(p, 'layer');
    const m = await measure(tar, f);
    located.set(m.digest, f.name);
    layers.push({ digest: m.digest, size: f.size, compression: m.compression });
  }
  // An OCI manifest, as `load` makes one for such an archive (read-image-archive.ts): the same
  // archive gives the same image either way, and the store stays readable by skopeo's `oci:`
  // and oci-image-tool, which refuse a Docker media type in an OCI layout.
  const manifest = synthesizedManifest(config, layers, 'oci');
  const bytes = Buffer.from(JSON.stringify(manifest));
  const digest = digestOf(bytes);
  made.set(digest, bytes);
  return { mediaType: manifest.mediaType!, digest, size: bytes.length };
}

/** A docker-archive as a copy destination: a file (temp + rename at commit) or a stream. */
export class DockerArchiveDestination extends TarDestination<DockerArchiveWriter> implements ImageDestination {
  /** Manifests written, by digest (small): commit reads the image manifests back from them. */
  private readonly manifests = new Map<Digest, Buffer>();

  protected makeWriter(out: Writable): DockerArchiveWriter {
    return new DockerArchiveWriter(out);
  }

  /** Writes a manifest's bytes as a blob and keeps them for commit's manifest.json. */
  override async putManifest(d: Descriptor, bytes: Buffer, names: string[]): Promise<void> {
    await super.putManifest(d, bytes, names);
    this.manifests.set(d.digest, bytes);
  }

  /**
   * Writes index.json, manifest.json, oci-layout and repositories for `images` and puts the archive
   * in place. manifest.json lists one manifest per image: for a whole index, this machine's
   * platform (else its first platform copied).
   */
  async commit(images: CopiedImage[]): Promise<boolean> {
    const saves = images.map((im) => this.saveImage(im));
    await this.close((w) => w.finishImages(saves));
    return true;
  }

  private saveImage(im: CopiedImage): SaveImage {
    for (const n of im.names) {
      try {
        parseReference(n);
      } catch (err) {
        throw new InvalidArgumentError(`invalid name "${n}" for a docker-archive: ${(err as Error).message}`);
      }
    }
    // One platform chosen from an index: the index itself was not copied, the manifest is the image.
    const root = im.target.digest === im.root.digest ? im.root : im.target;
    return { root: bareDescriptor(root), manifest: this.imageManifest(root), names: im.names };
  }

  /** The image manifest `d` is, or the one picked from the index `d` is. */
  private imageManifest(d: Descriptor): ImageManifest {
    const bytes = this.manifests.get(d.digest);
    if (!bytes) throw new InvalidArgumentError(`docker-archive: manifest ${d.digest} was not written`);
    const parsed = parseManifest(bytes, d.mediaType);
    if (parsed.kind === 'manifest') return parsed.manifest;
    const present = parsed.index.manifests.filter((c) => this.manifests.has(c.digest));
    const child = present.find((c) => platformMatches(c.platform, hostPlatform())) ?? present[0];
    if (!child) throw new InvalidArgumentError(`docker-archive: no platform of index ${d.digest} was copied`);
    return this.imageManifest(child);
  }
}
