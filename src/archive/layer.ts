/**
 * Turns a filesystem tarball (plain or gzip) into an image layer: checks it is a tar, hashes
 * the uncompressed bytes (the diff_id) and stores it gzip-compressed, all in one stream.
 */
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { createGzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { InvalidContentError } from '../errors.js';
import type { Descriptor } from '../image/descriptor.js';
import type { Digest } from '../image/digest.js';
import { DigestingStream } from '../image/digest.js';
import { OCI_LAYER_GZIP } from '../image/media-types.js';
import type { BlobStore, StagedBlob } from '../store/blobs.js';
import { decompress, peekCompression } from './compression.js';

/** A layer staged in the store's ingest folder. */
export interface StagedLayer {
  descriptor: Descriptor;
  diffId: Digest;
  staged: StagedBlob;
}

/** A pass-through that also feeds a tar parser, failing the stream when the bytes are not a tar. */
function tarCheck(): Transform {
  const ex = extract();
  let failure: Error | undefined;
  const fail = (): Error => new InvalidContentError(`not a valid tar archive: ${failure!.message}`);
  ex.on('entry', (_h, body, next) => { body.on('end', next); body.resume(); });
  ex.on('error', (err) => { failure = err; });
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (failure) return cb(fail());
      ex.write(chunk);
      cb(null, chunk);
    },
    flush(cb) {
      if (failure) return cb(fail());
      ex.on('finish', () => cb(null));
      ex.on('error', () => cb(fail()));
      ex.end(Buffer.alloc(0));
    },
  });
}

/** Stages `input` as a gzip layer; the caller commits or discards it. */
export async function stageLayer(input: Readable, blobs: BlobStore): Promise<StagedLayer> {
  const { compression, stream } = await peekCompression(input);
  if (compression !== 'none' && compression !== 'gzip') {
    throw new InvalidContentError(`${compression}-compressed tarballs are not supported; decompress it first`);
  }
  const diff = new DigestingStream();
  const plain = decompress(stream, compression);
  const check = tarCheck();
  const gzip = createGzip();
  for (const [a, b] of [[plain, check], [check, diff], [diff, gzip]] as const) a.on('error', (err) => b.destroy(err));
  const staged = await blobs.stage(plain.pipe(check).pipe(diff).pipe(gzip), {}, 'layer');
  return {
    descriptor: { mediaType: OCI_LAYER_GZIP, digest: staged.digest, size: staged.size },
    diffId: diff.digest(),
    staged,
  };
}
