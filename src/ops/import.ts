/** `import`: a rootfs tarball (file or stream) or a directory becomes a one-layer image. */
import type { Readable } from 'node:stream';
import { packDirectory } from '../archive/dir-tar.js';
import { stageLayer } from '../archive/layer.js';
import { StagedSource } from '../archive/staged-source.js';
import { copyImage } from '../copy/copy.js';
import type { ContainerConfig, ImageConfig } from '../image/config.js';
import type { Digest } from '../image/digest.js';
import type { ImageManifest } from '../image/manifest.js';
import { OCI_CONFIG, OCI_MANIFEST } from '../image/media-types.js';
import { hostPlatform, parsePlatform } from '../image/platform.js';
import { parseDockerRef } from '../reference/index.js';
import type { StagedBlob } from '../store/blobs.js';
import { StoreDestination } from '../store/endpoint.js';
import type { Store } from '../store/store.js';
import { applyChange } from './dockerfile-change.js';

/** Where the filesystem comes from. */
export type ImportSource = { dir: string } | { stream: Readable; label: string };

/** Options of `import`. */
export interface ImportOptions {
  /** `REPOSITORY[:TAG]` to name the image; untagged when absent. */
  reference?: string | undefined;
  /** `--change` Dockerfile instructions. */
  changes?: string[];
  /** `--message`: the history comment. */
  message?: string | undefined;
  /** `--platform os/arch[/variant]`; this machine's when absent. */
  platform?: string | undefined;
  /** Creation time; SOURCE_DATE_EPOCH, then now, when absent. */
  created?: Date;
}

/** SOURCE_DATE_EPOCH as a date, when set (reproducible builds). */
export function sourceDateEpoch(env: NodeJS.ProcessEnv = process.env): Date | undefined {
  const v = env['SOURCE_DATE_EPOCH'];
  return v && /^\d+$/.test(v) ? new Date(Number(v) * 1000) : undefined;
}

/** Imports one layer and returns the new image ID (config digest). */
export async function importImage(store: Store, source: ImportSource, opts: ImportOptions = {}): Promise<Digest> {
  const name = opts.reference ? parseDockerRef(opts.reference).full : undefined;
  const containerConfig: ContainerConfig = {};
  for (const c of opts.changes ?? []) applyChange(containerConfig, c);
  const platform = opts.platform ? parsePlatform(opts.platform) : hostPlatform();
  const created = opts.created ?? sourceDateEpoch() ?? new Date();
  const input = 'dir' in source ? packDirectory(source.dir, sourceDateEpoch()) : source.stream;
  const staged: StagedBlob[] = [];
  try {
    const layer = await stageLayer(input, store.blobs);
    staged.push(layer.staged);
    const config: ImageConfig = {
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      created: created.toISOString(),
      config: containerConfig,
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      history: [{ created: created.toISOString(), comment: opts.message ?? `Imported from ${'dir' in source ? source.dir : source.label}` }],
    };
    const cfg = await store.blobs.stageBytes(Buffer.from(JSON.stringify(config)));
    staged.push(cfg);
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: cfg.digest, size: cfg.size },
      layers: [layer.descriptor],
    };
    const man = await store.blobs.stageBytes(Buffer.from(JSON.stringify(manifest)));
    staged.push(man);
    const root = { mediaType: OCI_MANIFEST, digest: man.digest, size: man.size };
    // The final write is the copy pipeline from the staged files into the store (taken as they are).
    await copyImage(new StagedSource(new Map(staged.map((b) => [b.digest, b]))), new StoreDestination(store), { root, names: name ? [name] : [] }, { concurrency: 2 });
    return cfg.digest;
  } finally {
    for (const b of staged) await store.blobs.discard(b);
  }
}
