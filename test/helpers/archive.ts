/**
 * Tar surgery for the bad-input and import suites: read and rewrite archives with tar-stream,
 * corrupt one layer, add hostile entry names, build small rootfs tarballs.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Header } from 'tar-stream';
import { extract, pack } from 'tar-stream';

/** A tar header as written: the name plus whatever else is known. */
export type TarHeader = Partial<Header> & { name: string };

/** One tar member, fully in memory (the fixtures are small). */
export interface TarEntry {
  header: TarHeader;
  data: Buffer;
}

/** Reads every entry of a tar (file path or bytes). */
export async function readTar(src: string | Buffer): Promise<TarEntry[]> {
  const bytes = typeof src === 'string' ? await readFile(src) : src;
  const ex = extract();
  const entries: TarEntry[] = [];
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        entries.push({ header, data: Buffer.concat(chunks) });
        next();
      });
      stream.on('error', reject);
    });
    ex.on('finish', () => resolve());
    ex.on('error', reject);
  });
  ex.end(bytes);
  await done;
  return entries;
}

/** Packs entries (in order) into tar bytes. Sizes are taken from the data. */
export async function packTar(entries: TarEntry[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    p.on('data', (c: unknown) => chunks.push(c as Buffer));
    p.on('end', () => resolve(Buffer.concat(chunks)));
    p.on('error', reject);
  });
  for (const e of entries) {
    const header: TarHeader = { ...e.header };
    const isFile = (header.type ?? 'file') === 'file';
    if (isFile) header.size = e.data.length;
    else delete header.size;
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (isFile) p.entry(header, e.data, done);
      else p.entry(header, done);
    });
  }
  p.finalize();
  return done;
}

/** Writes entries to `dst` as a tar. */
export async function writeTar(dst: string, entries: TarEntry[]): Promise<void> {
  await writeFile(dst, await packTar(entries));
}

/** A regular file entry. */
export function fileEntry(name: string, content: string | Buffer, mode = 0o644): TarEntry {
  const data = typeof content === 'string' ? Buffer.from(content) : content;
  return { header: { name, type: 'file', mode, size: data.length, mtime: new Date(1704067200_000), uid: 0, gid: 0 }, data };
}

/** A directory entry. */
export function dirEntry(name: string, mode = 0o755): TarEntry {
  return { header: { name, type: 'directory', mode, mtime: new Date(1704067200_000), uid: 0, gid: 0 }, data: Buffer.alloc(0) };
}

/** A small rootfs tarball (what `import FILE.tar` takes): `files` maps paths to contents. */
export async function rootfsTar(files: Record<string, string>, opts: { gzip?: boolean } = {}): Promise<Buffer> {
  const entries: TarEntry[] = [];
  const dirs = new Set<string>();
  for (const path of Object.keys(files)) {
    for (let d = posix.dirname(path); d !== '.' && d !== '/'; d = posix.dirname(d)) dirs.add(d);
  }
  for (const d of [...dirs].sort()) entries.push(dirEntry(`${d}/`));
  for (const [path, content] of Object.entries(files)) entries.push(fileEntry(path, content));
  const tar = await packTar(entries);
  return opts.gzip ? gzipSync(tar) : tar;
}

/** Normalizes a member name for lookups (`./a/b` -> `a/b`). */
function clean(name: string): string {
  return posix.normalize(name.replace(/^\.\//, ''));
}

/**
 * The member names that hold layers, from `manifest.json` (docker-archive) or, without it, from
 * `index.json` (OCI layout archive). Symlinked legacy `ID/layer.tar` entries resolve to their target.
 */
export function layerMembers(entries: TarEntry[]): string[] {
  const byName = new Map(entries.map((e) => [clean(e.header.name), e]));
  const resolveLink = (name: string): string => {
    const e = byName.get(name);
    if (e && e.header.type === 'symlink' && e.header.linkname) return clean(posix.join(posix.dirname(name), e.header.linkname));
    return name;
  };
  const manifestJson = byName.get('manifest.json');
  if (manifestJson) {
    const m = JSON.parse(manifestJson.data.toString('utf8')) as Array<{ Layers?: string[] }>;
    return [...new Set(m.flatMap((x) => x.Layers ?? []).map((l) => resolveLink(clean(l))))];
  }
  const indexJson = byName.get('index.json');
  if (!indexJson) throw new Error('archive has neither manifest.json nor index.json');
  const blob = (digest: string): TarEntry => {
    const e = byName.get(`blobs/sha256/${digest.replace(/^sha256:/, '')}`);
    if (!e) throw new Error(`archive lacks blob ${digest}`);
    return e;
  };
  const out: string[] = [];
  const walk = (digest: string): void => {
    const j = JSON.parse(blob(digest).data.toString('utf8')) as { manifests?: Array<{ digest: string }>; layers?: Array<{ digest: string }> };
    for (const m of j.manifests ?? []) walk(m.digest);
    for (const l of j.layers ?? []) out.push(`blobs/sha256/${l.digest.replace(/^sha256:/, '')}`);
  };
  for (const m of (JSON.parse(indexJson.data.toString('utf8')) as { manifests: Array<{ digest: string }> }).manifests) walk(m.digest);
  return [...new Set(out)];
}

/**
 * Copies the archive `src` to `dst` with one byte changed in the middle of its largest layer
 * member (preferring a `blobs/sha256/...` member), so the member's bytes no longer match its
 * digest. Returns the member's name and the byte offset changed.
 */
export async function corruptLayer(src: string, dst: string): Promise<{ member: string; offset: number }> {
  const entries = await readTar(src);
  const layers = new Set(layerMembers(entries));
  const candidates = entries.filter((e) => layers.has(clean(e.header.name)) && e.data.length > 0);
  const preferred = candidates.filter((e) => clean(e.header.name).startsWith('blobs/sha256/'));
  const pool = preferred.length > 0 ? preferred : candidates;
  const target = pool.sort((a, b) => b.data.length - a.data.length)[0];
  if (!target) throw new Error(`no layer member found in ${src}`);
  const offset = Math.floor(target.data.length / 2);
  const data = Buffer.from(target.data);
  data[offset] = (data[offset]! ^ 0xff) & 0xff;
  target.data = data;
  await writeTar(dst, entries);
  return { member: clean(target.header.name), offset };
}

/** Copies the archive `src` to `dst` with an extra regular-file member named `name` first. */
export async function withExtraMember(src: string, dst: string, name: string, content = 'pwned\n'): Promise<void> {
  const entries = await readTar(src);
  await writeTar(dst, [fileEntry(name, content), ...entries]);
}

/** Copies the first half of `src`'s bytes to `dst`. */
export async function truncateHalf(src: string, dst: string): Promise<void> {
  const bytes = await readFile(src);
  await writeFile(dst, bytes.subarray(0, Math.floor(bytes.length / 2)));
}

/** sha256 hex of bytes. */
export function sha256Hex(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}
