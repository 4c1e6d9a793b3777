/**
 * Reads a store as the OCI image layout it must be, independently of ts-docker's code: every
 * blob reachable from index.json exists with the right size and sha256, and (after a delete)
 * nothing unreachable is left in blobs/.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { listBlobs, readIndex } from './cli.js';

/** A descriptor as the layout stores it. */
interface Desc {
  mediaType?: string;
  digest: string;
  size: number;
}

/** What is wrong with a layout (all empty when it is whole and clean). */
export interface LayoutReport {
  /** Digests referenced but absent. */
  missing: string[];
  /** Blobs whose bytes do not match their name or descriptor size. */
  corrupt: string[];
  /** Files in blobs/sha256 that nothing in index.json reaches. */
  unreferenced: string[];
  /** Every reachable blob's hex. */
  reachable: string[];
  /** Platform manifests of an index that are not in the store (not pulled): allowed, not missing. */
  absent: string[];
}

const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);
const MANIFEST_TYPES = new Set(['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json']);

/** Walks `<root>/index.json` down to every config and layer and reports what is wrong. */
export async function checkLayout(root: string): Promise<LayoutReport> {
  const report: LayoutReport = { missing: [], corrupt: [], unreferenced: [], reachable: [], absent: [] };
  const seen = new Set<string>();
  const blobPath = (digest: string): string => join(root, 'blobs', 'sha256', digest.replace(/^sha256:/, ''));

  const readBlob = async (d: Desc): Promise<Buffer | undefined> => {
    let bytes: Buffer;
    try {
      bytes = await readFile(blobPath(d.digest));
    } catch {
      report.missing.push(d.digest);
      return undefined;
    }
    const hex = createHash('sha256').update(bytes).digest('hex');
    if (`sha256:${hex}` !== d.digest || bytes.length !== d.size) report.corrupt.push(d.digest);
    return bytes;
  };

  const visit = async (d: Desc, kind: 'root' | 'manifest' | 'blob'): Promise<void> => {
    if (seen.has(d.digest)) return;
    seen.add(d.digest);
    const bytes = await readBlob(d);
    if (!bytes || kind === 'blob') return;
    const doc = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; manifests?: Desc[]; config?: Desc; layers?: Desc[] };
    const type = d.mediaType ?? doc.mediaType ?? '';
    if (INDEX_TYPES.has(type) || doc.manifests) {
      for (const m of doc.manifests ?? []) {
        // A platform of a multi-platform image that was not pulled: absent by the store's rule, not missing.
        if (!existsSync(blobPath(m.digest))) {
          report.absent.push(m.digest);
          continue;
        }
        await visit(m, 'manifest');
      }
    } else if (MANIFEST_TYPES.has(type) || doc.config) {
      if (doc.config) await visit(doc.config, 'blob');
      for (const l of doc.layers ?? []) await visit(l, 'blob');
    }
  };

  for (const m of (await readIndex(root)).manifests ?? []) await visit(m, 'root');
  report.reachable = [...seen].map((d) => d.replace(/^sha256:/, '')).sort();
  const reach = new Set(report.reachable);
  report.unreferenced = (await listBlobs(root)).filter((h) => !reach.has(h));
  return report;
}

/** Total bytes of the files in blobs/sha256. */
export async function blobBytes(root: string): Promise<number> {
  let total = 0;
  for (const h of await listBlobs(root)) total += (await stat(join(root, 'blobs', 'sha256', h))).size;
  return total;
}

/** The config JSON of the image whose manifest index.json names `fullRef`. */
export async function configOf(root: string, fullRef: string): Promise<Record<string, unknown> & { architecture?: string; os?: string; created?: string; rootfs?: { type: string; diff_ids: string[] }; config?: Record<string, unknown> }> {
  const entry = (await readIndex(root)).manifests?.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === fullRef);
  if (!entry) throw new Error(`no ${fullRef} in ${root}/index.json`);
  let doc = JSON.parse(await readFile(join(root, 'blobs', 'sha256', entry.digest.slice(7)), 'utf8')) as { config?: Desc; manifests?: Desc[] };
  if (!doc.config && doc.manifests?.[0]) doc = JSON.parse(await readFile(join(root, 'blobs', 'sha256', doc.manifests[0].digest.slice(7)), 'utf8')) as { config?: Desc };
  if (!doc.config) throw new Error(`${fullRef}: manifest without config`);
  return JSON.parse(await readFile(join(root, 'blobs', 'sha256', doc.config.digest.slice(7)), 'utf8')) as never;
}

/** The layer descriptors of the image named `fullRef`. */
export async function layersOf(root: string, fullRef: string): Promise<Desc[]> {
  const entry = (await readIndex(root)).manifests?.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === fullRef);
  if (!entry) throw new Error(`no ${fullRef} in ${root}/index.json`);
  let doc = JSON.parse(await readFile(join(root, 'blobs', 'sha256', entry.digest.slice(7)), 'utf8')) as { layers?: Desc[]; manifests?: Desc[] };
  if (!doc.layers && doc.manifests?.[0]) doc = JSON.parse(await readFile(join(root, 'blobs', 'sha256', doc.manifests[0].digest.slice(7)), 'utf8')) as { layers?: Desc[] };
  return doc.layers ?? [];
}
