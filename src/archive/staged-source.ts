/**
 * Blobs staged in the store's ingest/ (by `load`'s tar staging or `import`) as a copy source: the
 * pipeline then names them in the store like any other copy. Each staged file is offered to the
 * destination to take by rename (`stagedFile`), so nothing is written twice.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { DigestMismatchError, InvalidContentError } from '../errors.js';
import type { Descriptor } from '../image/descriptor.js';
import type { Digest } from '../image/digest.js';
import { digestOf } from '../image/digest.js';
import type { BlobRead, ImageSource } from '../image/endpoint.js';
import type { StagedBlob } from '../store/blobs.js';

/** Staged blobs, by digest, as an image source. */
export class StagedSource implements ImageSource {
  constructor(private readonly blobs: ReadonlyMap<Digest, StagedBlob>) {}

  /** A staged manifest's bytes, verified. */
  async manifest(d: Descriptor): Promise<Buffer> {
    const bytes = await readFile(this.need(d).path);
    if (digestOf(bytes) !== d.digest) throw new DigestMismatchError(`staged manifest ${d.digest} does not match its digest`);
    return bytes;
  }

  /** A staged blob from `offset`. */
  async blob(d: Descriptor, offset: number): Promise<BlobRead> {
    return { stream: createReadStream(this.need(d).path, { start: offset }), resumed: true };
  }

  /** False for a manifest that was not staged (an index's platform left out). */
  holds(d: Descriptor): boolean {
    return this.blobs.has(d.digest);
  }

  /** The staged file of `d`, for the destination to take. */
  stagedFile(d: Descriptor): string | undefined {
    return this.blobs.get(d.digest)?.path;
  }

  private need(d: Descriptor): StagedBlob {
    const f = this.blobs.get(d.digest);
    if (!f) throw new InvalidContentError(`invalid archive: blob ${d.digest} is missing`);
    if (f.size !== d.size) throw new DigestMismatchError(`invalid archive: blob ${d.digest} has size ${f.size}, expected ${d.size}`);
    return f;
  }
}
