/** Media types of the OCI image spec and Docker's schema2, and predicates over them. */

/** OCI image manifest. */
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
/** OCI image index. */
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
/** OCI image config. */
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
/** OCI uncompressed layer. */
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar';
/** OCI gzip layer. */
export const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
/** OCI zstd layer. */
export const OCI_LAYER_ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';
/** Docker schema2 manifest. */
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
/** Docker manifest list. */
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
/** Docker image config. */
export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
/** Docker gzip layer. */
export const DOCKER_LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
/** Docker foreign (non-distributable) layer. */
export const DOCKER_FOREIGN_LAYER = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip';

/** True for an image index or manifest list. */
export function isIndexType(mediaType: string | undefined): boolean {
  return mediaType === OCI_INDEX || mediaType === DOCKER_MANIFEST_LIST;
}

/** True for a single-image manifest. */
export function isManifestType(mediaType: string | undefined): boolean {
  return mediaType === OCI_MANIFEST || mediaType === DOCKER_MANIFEST;
}

/** The layer media type for a compression, in the manifest's family (OCI or Docker). */
export function layerMediaType(compression: 'gzip' | 'zstd' | 'none', docker: boolean): string {
  if (docker && compression === 'gzip') return DOCKER_LAYER_GZIP;
  if (compression === 'gzip') return OCI_LAYER_GZIP;
  if (compression === 'zstd') return OCI_LAYER_ZSTD;
  return OCI_LAYER;
}

/** True for the config types of runnable images (OCI and Docker); anything else is an artifact's (a signature, an SBOM, a chart). */
export function isImageConfig(mediaType: string): boolean {
  return mediaType === OCI_CONFIG || mediaType === DOCKER_CONFIG;
}
