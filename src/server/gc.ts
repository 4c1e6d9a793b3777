/**
 * `ts-docker registry gc`: mark every blob a repository's manifests reach (the manifests
 * themselves, configs, layers, index children, subjects are not followed), sweep the rest, and
 * remove stray temp files. Run it with the server stopped, as docker-registry's garbage-collect
 * asks: an upload finishing during a sweep could lose a blob no manifest names yet.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isDigest, type Digest } from '../image/digest.js';
import { RegistryStorage } from './storage.js';

/** What a gc run found and removed. */
export interface GcResult {
  kept: number;
  removed: Digest[];
  tempFiles: number;
}

/** Collects blobs no manifest of any repository reaches. */
export async function collectGarbage(root: string, opts: { dryRun?: boolean } = {}): Promise<GcResult> {
  const storage = new RegistryStorage(root);
  await storage.init();
  const marked = new Set<string>();
  for (const repo of await storage.repositories()) {
    for (const d of await storage.revisions(repo)) {
      marked.add(d);
      let m: { config?: { digest?: string }; layers?: Array<{ digest?: string }>; manifests?: Array<{ digest?: string }> };
      try {
        m = JSON.parse(await readFile(storage.blobPath(d), 'utf8')) as typeof m;
      } catch {
        continue;
      }
      for (const x of [m.config, ...(m.layers ?? []), ...(m.manifests ?? [])]) if (isDigest(x?.digest)) marked.add(x.digest);
    }
  }
  const removed: Digest[] = [];
  for (const hex of await readdir(join(root, 'blobs', 'sha256'))) {
    const d = `sha256:${hex}` as Digest;
    if (marked.has(d)) continue;
    removed.push(d);
    if (!opts.dryRun) await rm(join(root, 'blobs', 'sha256', hex), { force: true });
  }
  const temps = await readdir(join(root, 'tmp'));
  if (!opts.dryRun) for (const t of temps) await rm(join(root, 'tmp', t), { force: true });
  return { kept: marked.size, removed, tempFiles: temps.length };
}
