/**
 * Random access to an uncompressed tar file without extracting it: the headers are read once
 * (seeking over entry data), each regular file's data offset and size are recorded, and a file
 * is then served as a read stream over its byte range. Names are checked with safe-path.ts
 * (a hostile name is refused outright); links are followed inside the archive only.
 */
import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { InvalidContentError } from '../errors.js';
import type { LayoutFiles } from './layout-source.js';
import { sniffCompression } from './compression.js';
import { followLinks, resolveLink, safeEntryName } from './safe-path.js';

/** A regular file of the tar: where its data starts and how long it is. */
export interface TarFile {
  name: string;
  offset: number;
  size: number;
}

const BLOCK = 512;
/** Pax and GNU long-name records larger than this are refused (tar-stream caps them at 1 MiB too). */
const MAX_META = 1024 * 1024;

/** A number field: octal, or GNU base-256 when the high bit of the first byte is set. */
function numberField(h: Buffer, start: number, len: number): number {
  if ((h[start]! & 0x80) !== 0) {
    let n = 0;
    for (let i = start + 1; i < start + len; i++) n = n * 256 + h[i]!;
    return n;
  }
  const text = h.subarray(start, start + len).toString('latin1').replace(/\0.*$/s, '').trim();
  return text === '' ? 0 : parseInt(text, 8);
}

function stringField(h: Buffer, start: number, len: number): string {
  const raw = h.subarray(start, start + len);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? len : end).toString('utf8');
}

/** True when the header's checksum is right (unsigned sum, the checksum field counted as spaces). */
function checksumOk(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  return numberField(h, 148, 8) === sum;
}

/** Pax records (`LEN key=value\n`) as a map. */
function paxRecords(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) break;
    const len = Number(data.subarray(i, sp).toString('latin1'));
    if (!Number.isSafeInteger(len) || len <= 0 || i + len > data.length) break;
    const rec = data.subarray(sp + 1, i + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1));
    i += len;
  }
  return out;
}

/** The files of a tar on disk, by normalized name. */
export class TarIndex {
  /** Regular files by normalized name (the last entry of a name wins, as extraction does). */
  readonly files = new Map<string, TarFile>();
  /** Symbolic and hard links by normalized name -> normalized target. */
  readonly links = new Map<string, string>();

  /** A temp folder holding the decompressed tar, removed by {@link close}. */
  private temp: string | undefined;
  private readonly onExit = (): void => {
    if (this.temp) rmSync(this.temp, { recursive: true, force: true });
  };

  private constructor(readonly path: string, private readonly what: string) {}

  /**
   * Opens the tar at `path` for random access: a plain tar is read in place; a gzip-compressed one
   * is first decompressed into a temp folder under the OS temp dir ({@link close} removes it).
   * Other compressions are refused. `what` names the archive in errors (`archive FILE`).
   */
  static async open(path: string, what = `archive ${path}`): Promise<TarIndex> {
    const fh = await open(path, 'r');
    const head = Buffer.alloc(8);
    try {
      await fh.read(head, 0, 8, 0);
    } finally {
      await fh.close();
    }
    const compression = sniffCompression(head);
    if (compression === 'none') return TarIndex.scan(path, what);
    if (compression !== 'gzip') throw new InvalidContentError(`invalid ${what}: it is ${compression}-compressed; decompress it first`);
    const temp = await mkdtemp(join(tmpdir(), 'ts-docker-archive-'));
    const plain = join(temp, 'archive.tar');
    try {
      await pipeline(createReadStream(path), createGunzip(), createWriteStream(plain, { flags: 'wx' }));
      const index = await TarIndex.scan(plain, what);
      index.temp = temp;
      process.once('exit', index.onExit);
      return index;
    } catch (err) {
      await rm(temp, { recursive: true, force: true });
      if ((err as NodeJS.ErrnoException).code?.startsWith('Z_')) throw new InvalidContentError(`invalid ${what}: it does not decompress: ${(err as Error).message}`);
      throw err;
    }
  }

  /** Removes the decompressed copy, if one was made. */
  async close(): Promise<void> {
    process.off('exit', this.onExit);
    if (this.temp) await rm(this.temp, { recursive: true, force: true });
    this.temp = undefined;
  }

  /** Reads the headers of the plain tar at `path` (sniffed by {@link open}). */
  private static async scan(path: string, what: string): Promise<TarIndex> {
    const index = new TarIndex(path, what);
    const fh = await open(path, 'r');
    try {
      await index.read(fh, (await fh.stat()).size);
    } finally {
      await fh.close();
    }
    if (index.files.size === 0) throw new InvalidContentError(`invalid ${what}: it contains no files`);
    return index;
  }

  private async read(fh: FileHandle, fileSize: number): Promise<void> {
    const h = Buffer.alloc(BLOCK);
    let pos = 0;
    let pax = new Map<string, string>();
    let longName: string | undefined;
    let longLink: string | undefined;
    const bad = (why: string): never => {
      throw new InvalidContentError(`invalid ${this.what}: ${why}`);
    };
    const readData = async (at: number, size: number): Promise<Buffer> => {
      if (size > MAX_META) bad(`a tar header record of ${size} bytes is too large`);
      const buf = Buffer.alloc(size);
      const { bytesRead } = await fh.read(buf, 0, size, at);
      if (bytesRead < size) bad('it is truncated');
      return buf;
    };
    for (;;) {
      if (pos + BLOCK > fileSize) {
        // No end-of-archive marker: GNU tar accepts a tar that just ends after a whole entry.
        if (pos === fileSize) return;
        bad('it is truncated');
      }
      await fh.read(h, 0, BLOCK, pos);
      if (h.every((b) => b === 0)) return;
      if (!checksumOk(h)) bad(pos === 0 ? 'not a tar file' : `a tar header at byte ${pos} is corrupt`);
      const type = String.fromCharCode(h[156]!);
      let size = numberField(h, 124, 12);
      const dataAt = pos + BLOCK;
      if (type === 'x' || type === 'L' || type === 'K') {
        const data = await readData(dataAt, size);
        if (type === 'x') pax = paxRecords(data);
        else if (type === 'L') longName = data.toString('utf8').replace(/\0+$/, '');
        else longLink = data.toString('utf8').replace(/\0+$/, '');
        pos = dataAt + Math.ceil(size / BLOCK) * BLOCK;
        continue;
      }
      const prefix = h.subarray(257, 263).toString('latin1') === 'ustar\0' ? stringField(h, 345, 155) : '';
      const raw = pax.get('path') ?? longName ?? (prefix ? `${prefix}/${stringField(h, 0, 100)}` : stringField(h, 0, 100));
      const linkname = pax.get('linkpath') ?? longLink ?? stringField(h, 157, 100);
      if (pax.has('size')) size = Number(pax.get('size'));
      if (!Number.isSafeInteger(size) || size < 0) bad(`entry "${raw}" has an invalid size`);
      pax = new Map();
      longName = undefined;
      longLink = undefined;
      if (type === '5') size = 0; // a directory carries no data (as tar-stream and docker read it)
      if (type !== 'g' && dataAt + size > fileSize) bad(`it is truncated (entry "${raw}")`);
      if (type !== 'g') {
        const name = safeEntryName(raw);
        if (type === '0' || type === '\0' || type === '7') {
          this.links.delete(name);
          this.files.set(name, { name, offset: dataAt, size });
        } else if (type === '1') {
          this.files.delete(name);
          this.links.set(name, safeEntryName(linkname));
        } else if (type === '2') {
          this.files.delete(name);
          this.links.set(name, resolveLink(name, linkname));
        }
      }
      pos = dataAt + Math.ceil(size / BLOCK) * BLOCK;
    }
  }

  /** The file at `name`, following links (at most 16 hops); undefined when absent. */
  get(name: string): TarFile | undefined {
    return followLinks(this.files, this.links, name);
  }

  /** Bytes `start` to the end of `f`, read from the tar file. */
  stream(f: TarFile, start = 0): Readable {
    if (start >= f.size) return Readable.from([]);
    return createReadStream(this.path, { start: f.offset + start, end: f.offset + f.size - 1, highWaterMark: 256 * 1024 });
  }

  /** Reads a small file (JSON) into memory; refuses one over `limit` bytes. */
  async readSmall(name: string, limit = 32 * 1024 * 1024): Promise<Buffer> {
    const f = this.get(name);
    if (!f) throw new InvalidContentError(`invalid ${this.what}: missing ${name}`);
    if (f.size > limit) throw new InvalidContentError(`invalid ${this.what}: ${name} is too large (${f.size} bytes)`);
    return readRange(this.path, f.offset, f.size);
  }
}

/** `size` bytes of the file at `path` from `at`. */
export async function readRange(path: string, at: number, size: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(size);
    let done = 0;
    while (done < size) {
      const { bytesRead } = await fh.read(buf, done, size - done, at + done);
      if (bytesRead === 0) throw new InvalidContentError(`invalid archive ${path}: it is truncated`);
      done += bytesRead;
    }
    return buf;
  } finally {
    await fh.close();
  }
}

/** A tar's files as an OCI layout's (read in place). */
export class TarFiles implements LayoutFiles {
  constructor(readonly tar: TarIndex, readonly what: string) {}

  async size(name: string): Promise<number | undefined> {
    return this.tar.get(name)?.size;
  }

  readSmall(name: string, limit: number): Promise<Buffer> {
    return this.tar.readSmall(name, limit);
  }

  close(): Promise<void> {
    return this.tar.close();
  }

  stream(name: string, start: number): Readable {
    const f = this.tar.get(name);
    if (!f) throw new InvalidContentError(`invalid ${this.what}: missing ${name}`);
    return this.tar.stream(f, start);
  }
}
