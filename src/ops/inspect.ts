/** `inspect`: docker's `image inspect` JSON for each image argument. */
import { NotFoundError } from '../errors.js';
import type { ImageRecord } from '../store/images.js';
import { DamagedImageError } from '../store/images.js';
import type { Store } from '../store/store.js';
import { familiarOf, repoTagOf } from './names.js';

/** The fields of `docker image inspect` that a store without a daemon can fill. */
export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  DockerVersion: string;
  Author: string;
  Config: Record<string, unknown>;
  Architecture: string;
  Variant?: string;
  Os: string;
  Size: number;
  RootFS: { Type: string; Layers: string[] };
  Metadata: { LastTagTime: string };
  Descriptor: { mediaType: string; digest: string; size: number };
}

/** Builds the inspect object of one image record. */
export function inspectRecord(r: ImageRecord): ImageInspect {
  const c = r.config;
  const repos = [...new Set(r.names.map((n) => repoTagOf(n).repository))];
  const out: ImageInspect = {
    Id: r.id,
    RepoTags: r.names.map(familiarOf),
    // As docker's containerd image store does: every repository holding the image, by manifest digest.
    RepoDigests: repos.map((repo) => `${repo}@${r.descriptor.digest}`),
    Parent: '',
    Comment: c.comment ?? c.history?.at(-1)?.comment ?? '',
    Created: c.created ?? '0001-01-01T00:00:00Z',
    DockerVersion: typeof c['docker_version'] === 'string' ? c['docker_version'] : '',
    Author: c.author ?? '',
    Config: (c.config ?? {}) as Record<string, unknown>,
    Architecture: c.architecture,
    Os: c.os,
    Size: r.size,
    RootFS: { Type: c.rootfs.type, Layers: [...c.rootfs.diff_ids] },
    Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
    Descriptor: { mediaType: r.descriptor.mediaType, digest: r.descriptor.digest, size: r.descriptor.size },
  };
  if (c.variant) out.Variant = c.variant;
  return out;
}

/** Inspects each argument; missing and damaged ones are collected as errors so the rest still print. */
export async function inspect(store: Store, args: string[]): Promise<{ items: ImageInspect[]; errors: (NotFoundError | DamagedImageError)[] }> {
  const index = await store.readIndex();
  const items: ImageInspect[] = [];
  const errors: (NotFoundError | DamagedImageError)[] = [];
  for (const arg of args) {
    try {
      const { record } = await store.find(arg, index);
      items.push(inspectRecord(record));
    } catch (err) {
      if (err instanceof NotFoundError || err instanceof DamagedImageError) errors.push(err);
      else throw err;
    }
  }
  return { items, errors };
}
