/**
 * Go's words for the errno codes a file or socket operation meets (`no space left on device`),
 * the one table every layer uses to say what the system refused. A leaf: imports nothing of ours.
 */

const WORDS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EFBIG: 'file too large',
  EACCES: 'permission denied',
  ENOENT: 'no such file or directory',
  EPIPE: 'broken pipe',
  EIO: 'input/output error',
  EBADF: 'bad file descriptor',
  ECONNRESET: 'connection reset by peer',
};

/** The disk refused a write (full, over quota, read-only, file too big): errors no retry can help. */
export const DISK_FULL_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EFBIG']);

/** Go's wording of `err`'s errno code, or undefined when it has none we know. */
export function errnoWords(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? WORDS[code] : undefined;
}

/** Go's wording of `err`'s errno code, else its own message. */
export function errnoText(err: NodeJS.ErrnoException): string {
  return errnoWords(err) ?? err.message;
}
