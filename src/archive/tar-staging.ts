/**
 * Reads an archive tar into the store's `ingest/` folder: every regular file is streamed to a
 * temp file and hashed on the way. Nothing is written by the names the archive gives, so a
 * hostile name can never land outside the store; unsafe names are refused outright.
 */
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { extract } from 'tar-stream';
import { InvalidContentError } from '../errors.js';
import type { BlobStore, StagedBlob } from '../store/blobs.js';
import { decompress, peekCompression } from './compression.js';
import { followLinks, resolveLink, safeEntryName } from './safe-path.js';

/** The files of an archive, staged: name -> verified temp file. */
export class StagedArchive {
  /** Regular files by normalized name. */
  readonly files = new Map<string, StagedBlob>();
  /** Symlinks by name -> normalized target. */
  readonly links = new Map<string, string>();

  constructor(private readonly blobs: BlobStore) {}

  /** The staged file at `name`, following links; undefined when absent. */
  get(name: string): StagedBlob | undefined {
    return followLinks(this.files, this.links, name);
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
    const framed = untilEndOfArchive(() => stopReading(input));
    plain.on('error', (err) => ex.destroy(err));
    framed.on('error', (err) => ex.destroy(err));
    plain.pipe(framed).pipe(ex);
    await done;
    if (staged.files.size === 0) throw new InvalidContentError('invalid archive: it contains no files');
    return staged;
  } catch (err) {
    // Stop reading (and close) the input: a refused archive leaves no file handle behind.
    stopReading(input);
    await staged.discard();
    if (err instanceof InvalidContentError || (err as { exitCode?: number }).exitCode) throw err;
    throw new InvalidContentError(`invalid archive: ${(err as Error).message}`, { cause: err });
  }
}

/** Stops reading a source whose archive has ended (its later errors are ignored: the archive is complete). */
export function stopReading(input: Readable): void {
  if (input.readableEnded || input.destroyed) return;
  input.on('error', () => undefined);
  input.destroy();
}

const BLOCK = 512;
/** A pax extended header (`x`) larger than this is not read for its `size` record (tar-stream's own cap is 1 MiB too). */
const MAX_PAX = 1024 * 1024;

/** The entry size in a tar header: octal, or GNU base-256 when the high bit of the first byte is set. */
function headerSize(h: Buffer): number {
  if ((h[124]! & 0x80) !== 0) {
    let n = 0;
    for (let i = 125; i < 136; i++) n = n * 256 + h[i]!;
    return n;
  }
  const text = h.subarray(124, 136).toString('latin1').replace(/[\0 ]+$/, '').trim();
  return text === '' ? 0 : parseInt(text, 8);
}

/**
 * Passes a tar stream through up to and including its end-of-archive marker (two zero blocks),
 * then ends and calls `onEnd` so the caller can stop reading the source. What follows the
 * marker is ignored, as GNU tar and Go's archive/tar ignore it: `load -i /dev/zero` is an empty
 * archive, not an endless read. Only headers are looked at (block framing, pax `size` records);
 * entry data passes through without being buffered.
 */
export function untilEndOfArchive(onEnd: () => void): Transform {
  let pending = Buffer.alloc(0); // an incomplete header block (or pax data) being collected
  let skip = 0; // data bytes (with padding) still to pass before the next header
  let zeros = 0;
  let paxLeft = -1; // >= 0 while collecting a pax header's data
  let paxData: Buffer[] = [];
  let nextSize: number | undefined;
  let ended = false;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (ended) return cb();
      let buf = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
      pending = Buffer.alloc(0);
      let out = 0; // bytes of buf to pass on
      while (out < buf.length) {
        if (skip > 0) {
          const n = Math.min(skip, buf.length - out);
          if (paxLeft >= 0) {
            paxData.push(buf.subarray(out, out + Math.min(n, paxLeft)));
            paxLeft -= Math.min(n, paxLeft);
          }
          skip -= n;
          out += n;
          if (skip === 0 && paxLeft >= 0) {
            const m = /(?:^|\n)\d+ size=(\d+)\n/.exec(Buffer.concat(paxData).toString('latin1'));
            if (m) nextSize = Number(m[1]);
            paxLeft = -1;
            paxData = [];
          }
          continue;
        }
        if (buf.length - out < BLOCK) {
          pending = Buffer.from(buf.subarray(out));
          buf = buf.subarray(0, out);
          break;
        }
        const h = buf.subarray(out, out + BLOCK);
        out += BLOCK;
        if (h.every((b) => b === 0)) {
          if (++zeros === 2) {
            ended = true;
            this.push(buf.subarray(0, out));
            this.push(null);
            onEnd();
            return cb();
          }
          continue;
        }
        zeros = 0;
        const type = String.fromCharCode(h[156]!);
        let size = headerSize(h);
        if (type === 'x' || type === 'g' || type === 'L' || type === 'K') {
          if (type === 'x' && size <= MAX_PAX) {
            paxLeft = size;
            paxData = [];
          }
        } else {
          if (nextSize !== undefined) size = nextSize;
          nextSize = undefined;
          if (type === '5') size = 0; // tar-stream (and docker) read no data for a directory
        }
        skip = Math.ceil(size / BLOCK) * BLOCK;
        if (skip === 0 && paxLeft >= 0) paxLeft = -1;
      }
      if (buf.length > 0) this.push(buf);
      cb();
    },
    flush(cb) {
      // An incomplete last block goes on as it is: the tar parser reports the truncation.
      if (pending.length > 0) this.push(pending);
      cb();
    },
    // Once the archive has ended, the source stopping (or failing) is no longer this stream's concern.
    destroy(err, cb) {
      cb(ended ? null : err);
    },
  });
}
