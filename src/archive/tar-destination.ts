/** The copy destination every single-tar format (OCI archive, docker-archive) is. */
import type { Writable } from 'node:stream';
import type { Descriptor } from '../image/descriptor.js';
import type { BlobInfo, BlobReader } from '../image/endpoint.js';
import { AtomicFile } from './atomic-file.js';
import type { TarBlobWriter } from './tar-blob-writer.js';

/**
 * A copy destination that is one tar (an OCI archive, a docker-archive): blobs stream in as `put`
 * is called (serialized), `commit` writes the closing files and renames the temp file to the
 * target; a failed put or commit removes the temp file, so a failed copy leaves nothing at the target.
 */
export abstract class TarDestination<W extends TarBlobWriter = TarBlobWriter> {
  private opened: Promise<{ writer: W; file: AtomicFile | undefined }> | undefined;
  private writer: W | undefined;

  /** `target`: a file path (written through a temp file beside it) or a stream (written as is). */
  constructor(protected readonly target: string | Writable) {}

  /** Starts the tar on `out`. */
  protected abstract makeWriter(out: Writable): W;

  /** True when the archive holds the blob already (written earlier in this copy). */
  async has(d: Descriptor, _info?: BlobInfo): Promise<boolean> {
    return this.writer?.has(d.digest) ?? false;
  }

  /** Streams the blob (from byte 0) into the archive once its turn comes. */
  async put(d: Descriptor, read: BlobReader, progress: (done: number) => void, _info?: BlobInfo): Promise<'transferred' | 'exists'> {
    const { writer } = await this.open();
    return this.failing(writer.blob(d, async () => (await read(0)).stream, progress));
  }

  /** Writes a manifest's bytes as a blob. */
  async putManifest(d: Descriptor, bytes: Buffer, _names: string[]): Promise<void> {
    const { writer } = await this.open();
    await this.failing(writer.bytes(d, bytes));
  }

  /** Removes what was written (the temp file); the target is left as it was. */
  async abort(): Promise<void> {
    const opened = await this.opened?.catch(() => undefined);
    opened?.writer.abort();
    await opened?.file?.discard();
  }

  /** Closes the tar through `finish`, then puts the file in place. */
  protected async close(finish: (writer: W) => Promise<void>): Promise<void> {
    const { writer, file } = await this.open();
    await this.failing(finish(writer));
    await this.failing(file?.commit() ?? Promise.resolve());
  }

  private open(): Promise<{ writer: W; file: AtomicFile | undefined }> {
    this.opened ??= (async () => {
      const file = typeof this.target === 'string' ? await AtomicFile.create(this.target) : undefined;
      this.writer = this.makeWriter(file?.stream ?? (this.target as Writable));
      return { writer: this.writer, file };
    })();
    return this.opened;
  }

  private async failing<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (err) {
      await this.abort();
      throw err;
    }
  }
}
