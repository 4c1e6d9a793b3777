/** Whole-file writes that are never seen half-done: temp file, fsync, rename. */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';

/** Replaces `path` with `data` atomically (readers see the old or the new file, never a mix); `durable` fsyncs first. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, durable = true): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(data);
      if (durable) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
