/**
 * Reads an archive tar into the store's `ingest/` folder: every regular file is streamed to a
 * temp file and hashed on the way. Nothing is written by the names the archive gives, so a
 * hostile name can never land outside the store; unsafe names are refused outright.
 */
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { InvalidContentError } from '../errors.js';
import type { BlobStore, StagedBlob } from '../store/blobs.js';
import { decompress, peekCompression } from './compression.js';
import { resolveLink, safeEntryName } from './safe-path.js';

/** The files of an archive, staged: name -> verified temp file. */
export class StagedArchive {
  /** Regular files by normalized name. */
  readonly files = new Map<string, StagedBlob>();
  /** Symlinks by name -> normalized target. */
  readonly links = new Map<string, string>();

  constructor(private readonly blobs: BlobStore) {}

  /** The staged file at `name`, following links; undefined when absent. */
  get(name: string): StagedBlob | undefined {
    let n = name;
    for (let hops = 0; hops < 16; hops++) {
      const f = this.files.get(n);
      if (f) return f;
      const t = this.links.get(n);
      if (t === undefined) return undefined;
      n = t;
    }
    return undefined;
  }

  /** True when a file (or link to one) exists at `name`. */
  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Reads a small staged file (JSON) into memory; refuses large ones. */
  async readSmall(name: string, limit = 32 * 1024 * 1024): Promise<Buffer> {
    const f = this.get(name);
    if (!f) throw new InvalidContentError(`invalid archive: missing ${name}`);
    if (f.size > limit) throw new InvalidContentError(`invalid archive: ${name} is too large (${f.size} bytes)`);
    return readFile(f.path);
  }

  /** Deletes every temp file. */
  async discard(): Promise<void> {
    await Promise.all([...this.files.values()].map((f) => this.blobs.discard(f)));
  }
}

/** Streams a tar (plain or gzip) into staging; on any error the staged files are removed. */
export async function stageTar(input: Readable, blobs: BlobStore): Promise<StagedArchive> {
  const staged = new StagedArchive(blobs);
  try {
    const { compression, stream } = await peekCompression(input);
    if (compression !== 'none' && compression !== 'gzip') {
      throw new InvalidContentError(`invalid archive: ${compression}-compressed archives are not supported; decompress it first`);
    }
    const ex = extract();
    const done = new Promise<void>((resolve, reject) => {
      ex.on('entry', (header, body, next) => {
        const handle = async (): Promise<void> => {
          const name = safeEntryName(header.name);
          if (header.type === 'file' || header.type === 'contiguous-file') {
            const prev = staged.files.get(name);
            const blob = await blobs.stage(body as unknown as Readable, {}, `archive entry ${name}`);
            if (prev) await blobs.discard(prev);
            staged.files.set(name, blob);
            return;
          }
          if (header.type === 'symlink' || header.type === 'link') {
            const target = header.type === 'link'
              ? safeEntryName(header.linkname ?? '')
              : resolveLink(name, header.linkname ?? '');
            staged.links.set(name, target);
          }
          body.resume();
        };
        handle().then(() => next(), (err: unknown) => {
          body.resume();
          reject(err);
          ex.destroy(err as Error);
        });
      });
      ex.on('finish', resolve);
      ex.on('error', reject);
      stream.on('error', reject);
    });
    const plain = decompress(stream, compression);
    plain.on('error', (err) => ex.destroy(err));
    plain.pipe(ex);
    await done;
    if (staged.files.size === 0) throw new InvalidContentError('invalid archive: it contains no files');
    return staged;
  } catch (err) {
    await staged.discard();
    if (err instanceof InvalidContentError || (err as { exitCode?: number }).exitCode) throw err;
    throw new InvalidContentError(`invalid archive: ${(err as Error).message}`, { cause: err });
  }
}
