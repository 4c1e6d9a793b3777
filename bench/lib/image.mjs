// Deterministic test images in an OCI image layout that is at once a ts-docker store and a
// skopeo `oci:` source. Layers are real tar archives holding one file of AES-CTR keystream
// (random, incompressible, the same bytes every run), gzipped at level 0 (stored deflate
// blocks: valid gzip of incompressible data, without burning CPU on compressing it).
import { createCipheriv, createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

export const REF_NAME = 'org.opencontainers.image.ref.name';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const CREATED = '2024-01-01T00:00:00Z';
const CHUNK = 1024 * 1024;

function sha256(data) {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** A ustar header for one regular file. */
function tarHeader(name, size) {
  const h = Buffer.alloc(512);
  const put = (s, off, len) => h.write(s, off, Math.min(len, Buffer.byteLength(s)), 'ascii');
  const octal = (n, len) => n.toString(8).padStart(len - 1, '0');
  put(name, 0, 100);
  put(octal(0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(Date.parse(CREATED) / 1000, 12), 136, 12);
  h.fill(0x20, 148, 156); // checksum field counts as spaces
  put('0', 156, 1);
  put('ustar\u000000', 257, 8);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${octal(sum, 7)}\u0000 `, 148, 8);
  return h;
}

/** The uncompressed tar stream of a layer: about `size` bytes, random content seeded by `seed`. */
function* tarChunks(seed, size) {
  const dataLen = Math.max(0, size - 512 - 1024);
  const dataLenRounded = Math.ceil(dataLen / 512) * 512;
  yield tarHeader(`bench/${seed}.bin`, dataLen);
  const key = createHash('sha256').update(`ts-docker-bench:${seed}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(CHUNK);
  for (let left = dataLen; left > 0; left -= CHUNK) {
    yield cipher.update(left >= CHUNK ? zeros : zeros.subarray(0, left));
  }
  yield Buffer.alloc(dataLenRounded - dataLen + 1024);
}

function hashing(onDone) {
  const h = createHash('sha256');
  let n = 0;
  return new Transform({
    transform(chunk, _e, cb) {
      h.update(chunk);
      n += chunk.length;
      cb(null, chunk);
    },
    flush(cb) {
      onDone(`sha256:${h.digest('hex')}`, n);
      cb();
    },
  });
}

/** Writes one gzip layer into `blobDir`; returns its descriptor and diff_id. */
async function writeLayer(blobDir, seed, size) {
  const tmp = join(blobDir, `.tmp-${seed}`);
  let diffId;
  let digest;
  let length;
  await pipeline(
    Readable.from(tarChunks(seed, size), { objectMode: false }),
    hashing((d) => { diffId = d; }),
    createGzip({ level: 0, chunkSize: CHUNK }),
    hashing((d, n) => { digest = d; length = n; }),
    createWriteStream(tmp),
  );
  await rename(tmp, join(blobDir, digest.slice(7)));
  return { layer: { mediaType: OCI_LAYER_GZIP, digest, size: length }, diffId };
}

async function writeBlob(blobDir, bytes) {
  const digest = sha256(bytes);
  await writeFile(join(blobDir, digest.slice(7)), bytes);
  return { digest, size: bytes.length };
}

/**
 * Builds an image of `count` layers of about `layerSize` bytes each into the layout at `root`
 * and returns its manifest descriptor (not yet named). `label` makes the config (and so the
 * image ID) distinct between images that share layers.
 */
export async function buildImage(root, { id, count, layerSize, label = id, layers: given }) {
  const blobDir = join(root, 'blobs', 'sha256');
  await mkdir(blobDir, { recursive: true });
  const built = given ?? [];
  if (!given) for (let i = 0; i < count; i++) built.push(await writeLayer(blobDir, `${id}-${i}`, layerSize));
  const config = Buffer.from(JSON.stringify({
    created: CREATED,
    architecture: 'amd64',
    os: 'linux',
    config: { Labels: { 'ts-docker.bench': label } },
    rootfs: { type: 'layers', diff_ids: built.map((l) => l.diffId) },
    history: built.map(() => ({ created: CREATED, created_by: 'ts-docker bench' })),
  }));
  const cfg = await writeBlob(blobDir, config);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, ...cfg },
    layers: built.map((l) => l.layer),
  }));
  const m = await writeBlob(blobDir, manifest);
  return { descriptor: { mediaType: OCI_MANIFEST, ...m }, layers: built, bytes: built.reduce((a, l) => a + l.layer.size, 0) };
}

/** Writes `oci-layout` and an `index.json` naming the given descriptors. */
export async function writeLayout(root, named) {
  await mkdir(join(root, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(root, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const manifests = named.map(([name, d]) => ({ ...d, annotations: { [REF_NAME]: name } }));
  await writeFile(join(root, 'index.json'), `${JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }, null, 2)}\n`);
}
