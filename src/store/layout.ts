/** Paths of the on-disk store (an OCI image layout plus sidecar folders) and its creation. */
import { existsSync } from 'node:fs';
import { mkdir, open, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Digest } from '../image/digest.js';
import { hexOf } from '../image/digest.js';

/** The `oci-layout` file's content. */
export const OCI_LAYOUT_CONTENT = '{"imageLayoutVersion":"1.0.0"}';

/** The store root used when neither `--root` nor `$TS_DOCKER_ROOT` is given. */
export function defaultRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env['TS_DOCKER_ROOT']) return env['TS_DOCKER_ROOT'];
  const data = env['XDG_DATA_HOME'] || join(homedir(), '.local', 'share');
  return join(data, 'ts-docker');
}

/** Every path inside a store root. Sidecars live beside `blobs/`, never in it. */
export class StoreLayout {
  constructor(readonly root: string) {}
  /** `oci-layout` marker file. */
  get ociLayout(): string { return join(this.root, 'oci-layout'); }
  /** `index.json`, the names. */
  get index(): string { return join(this.root, 'index.json'); }
  /** The lock file guarding `index.json` and garbage collection. */
  get lock(): string { return join(this.root, 'index.json.lock'); }
  /** Folder of sha256 blobs. */
  get blobDir(): string { return join(this.root, 'blobs', 'sha256'); }
  /** Temp files for blobs and archives being written (same filesystem, for rename). */
  get ingestDir(): string { return join(this.root, 'ingest'); }
  /** Path of one blob. */
  blob(d: Digest): string { return join(this.blobDir, hexOf(d)); }
}

/** Creates the layout's skeleton if it is missing; an existing store is left as it is. */
export async function ensureLayout(layout: StoreLayout): Promise<void> {
  // The common case, an existing store, costs four stat calls and no trip through the thread pool.
  if ([layout.index, layout.ociLayout, layout.blobDir, layout.ingestDir].every((p) => existsSync(p))) return;
  await mkdir(layout.blobDir, { recursive: true });
  await mkdir(layout.ingestDir, { recursive: true });
  await createIfMissing(layout.ociLayout, OCI_LAYOUT_CONTENT);
  await createIfMissing(layout.index, '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}');
}

async function createIfMissing(path: string, content: string): Promise<void> {
  try {
    await stat(path);
    return;
  } catch {
    // create below
  }
  try {
    const fh = await open(path, 'wx');
    try { await fh.writeFile(content); } finally { await fh.close(); }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}
