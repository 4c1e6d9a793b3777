/**
 * An OCI archive: a tar of an OCI image layout (skopeo's `oci-archive:FILE[:REF]`). Read in
 * place (the tar's headers are scanned once, blobs are served as byte ranges of the file);
 * written as one stream, blobs in the order they come, `index.json` and `oci-layout` last.
 */
import type { Writable } from 'node:stream';
import type { CopiedImage, ImageDestination } from '../image/endpoint.js';
import { OCI_INDEX } from '../image/media-types.js';
import { LayoutSource } from './layout-source.js';
import { OCI_LAYOUT_FILE, namedEntries, openLayout } from './oci-layout.js';
import { TarBlobWriter } from './tar-blob-writer.js';
import { TarDestination } from './tar-destination.js';
import { TarFiles, TarIndex } from './tar-index.js';

/** An OCI archive as a copy source. */
export class OciArchiveSource extends LayoutSource {
  /**
   * Opens the archive at `file` (a tar, or a gzip-compressed one: decompressed into a temp
   * folder that {@link close} removes): with `ref`, the image whose ref name it is
   * (NotFoundError otherwise); without, every image (`image` is then the only one, or an error).
   */
  static async open(file: string, ref?: string): Promise<OciArchiveSource> {
    const what = `archive ${file}`;
    const files = new TarFiles(await TarIndex.open(file, what), what);
    try {
      const s = await openLayout(files, ref);
      return new OciArchiveSource(files, s.images);
    } catch (err) {
      await files.close();
      throw err;
    }
  }
}

/** An OCI archive as a copy destination: a file (temp + rename at commit) or a stream. */
export class OciArchiveDestination extends TarDestination implements ImageDestination {
  protected makeWriter(out: Writable): TarBlobWriter {
    return new TarBlobWriter(out, ['blobs', 'blobs/sha256']);
  }

  /** Writes index.json (each image under its ref names) and oci-layout, and puts the archive in place. */
  async commit(images: CopiedImage[]): Promise<boolean> {
    const manifests = namedEntries([], images);
    await this.close((w) => w.finish([
      { name: 'index.json', data: JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }) },
      { name: 'oci-layout', data: OCI_LAYOUT_FILE },
    ]));
    return true;
  }
}
