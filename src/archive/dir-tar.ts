/**
 * Packs a directory into a tar stream, deterministically: entries sorted, owner root,
 * mtimes clamped to SOURCE_DATE_EPOCH when set, so the same tree gives the same bytes.
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pack } from 'tar-stream';

/** A tar of `dir`'s contents (paths relative to it), as a stream. */
export function packDirectory(dir: string, clampMtime?: Date): Readable {
  const tar = pack();
  const clamp = (d: Date): Date => (clampMtime && d > clampMtime ? clampMtime : d);
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(join(dir, rel))).sort();
    for (const n of names) {
      const relPath = rel ? `${rel}/${n}` : n;
      const abs = join(dir, relPath);
      const st = await lstat(abs);
      const base = { name: relPath, mode: st.mode & 0o7777, mtime: clamp(st.mtime), uid: 0, gid: 0 };
      if (st.isDirectory()) {
        tar.entry({ ...base, type: 'directory' });
        await walk(relPath);
      } else if (st.isSymbolicLink()) {
        tar.entry({ ...base, type: 'symlink', linkname: await readlink(abs) });
      } else if (st.isFile()) {
        await new Promise<void>((resolve, reject) => {
          const sink = tar.entry({ ...base, size: st.size }, (err) => (err ? reject(err) : resolve()));
          const src = createReadStream(abs);
          src.on('error', (err) => { sink.destroy(err); reject(err); });
          src.pipe(sink);
        });
      }
    }
  };
  walk('').then(() => tar.finalize(), (err: unknown) => tar.destroy(err as Error));
  // tar-stream packs are streamx streams; Node pipes them as it does its own Readables.
  return tar as unknown as Readable;
}
