/** Sniffing a stream's compression from its first bytes, and undoing it. */
import type { Readable } from 'node:stream';
import { PassThrough } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** Compression of a layer or archive, from its magic bytes. */
export type Compression = 'gzip' | 'zstd' | 'bzip2' | 'xz' | 'none';

/** Identifies the compression from a buffer's first bytes. */
export function sniffCompression(head: Uint8Array): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  if (head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return 'bzip2';
  if (head[0] === 0xfd && head[1] === 0x37 && head[2] === 0x7a && head[3] === 0x58 && head[4] === 0x5a) return 'xz';
  return 'none';
}

/** Reads the first chunk of `input` to sniff it, then returns a stream with every byte intact. */
export async function peekCompression(input: Readable): Promise<{ compression: Compression; stream: Readable }> {
  const first = await new Promise<Buffer | null>((resolve, reject) => {
    const onReadable = (): void => {
      cleanup();
      resolve(input.read() as Buffer | null);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(null);
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const cleanup = (): void => {
      input.off('readable', onReadable);
      input.off('end', onEnd);
      input.off('error', onError);
    };
    input.on('readable', onReadable);
    input.on('end', onEnd);
    input.on('error', onError);
  });
  const out = new PassThrough();
  if (first) out.write(first);
  input.pipe(out);
  input.on('error', (err) => out.destroy(err));
  return { compression: first ? sniffCompression(first) : 'none', stream: out };
}

/** Gunzips when gzip, passes through when uncompressed; other compressions are refused by the caller. */
export function decompress(stream: Readable, compression: Compression): Readable {
  if (compression !== 'gzip') return stream;
  const gunzip = createGunzip();
  stream.on('error', (err) => gunzip.destroy(err));
  return stream.pipe(gunzip);
}
