/** Content descriptors and platforms (OCI image spec). */
import type { Digest } from './digest.js';

/** A platform as written in an index entry or asked for with `--platform`. */
export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

/** A content descriptor: what a blob is, how big, and where it applies. */
export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
  urls?: string[];
  artifactType?: string;
}

/** The annotation an OCI layout uses to name an index entry. */
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
/** containerd's (and docker 25+'s `save`) full image name annotation. */
export const CONTAINERD_NAME_ANNOTATION = 'io.containerd.image.name';

/** A descriptor without annotations or platform: what a name points at. */
export function bareDescriptor(d: Descriptor): Descriptor {
  return { mediaType: d.mediaType, digest: d.digest, size: d.size };
}
