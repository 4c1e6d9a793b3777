/** The archive endpoints of `copy`: `oci:DIR[:REF]`, `oci-archive:FILE[:REF]`, `docker-archive:FILE[:NAME:TAG]`. */
import { DockerArchiveDestination, DockerArchiveSource } from '../archive/docker-archive.js';
import { OciArchiveDestination, OciArchiveSource } from '../archive/oci-archive.js';
import { OciLayoutDestination, OciLayoutSource } from '../archive/oci-layout.js';
import type { Location } from '../copy/locations.js';
import type { ImageDestination } from '../image/endpoint.js';
import { parseDockerRef } from '../reference/index.js';
import type { OpenedSource } from './copy.js';

type ArchiveLocation = Extract<Location, { kind: 'oci' | 'oci-archive' | 'docker-archive' }>;

/** Opens an archive location for reading: the one image it holds, or the one REF names. */
export async function openArchiveSource(loc: ArchiveLocation): Promise<OpenedSource> {
  const source = loc.kind === 'oci'
    ? await OciLayoutSource.open(loc.path, loc.ref)
    : loc.kind === 'oci-archive'
      ? await OciArchiveSource.open(loc.path, loc.ref)
      : await DockerArchiveSource.open(loc.path, loc.ref);
  const { root, names } = source.image;
  // close: a gzip archive was decompressed into a temp folder to be read in place.
  return { source, root, name: names[0], close: () => source.close() };
}

/**
 * Opens an archive location for writing, with the names to give the image: REF when the location
 * has one; for a docker-archive without one, the source's name when it is a docker reference.
 */
export function openArchiveDestination(loc: ArchiveLocation, sourceName: string | undefined): { dest: ImageDestination; names: string[] } {
  switch (loc.kind) {
    case 'oci': return { dest: new OciLayoutDestination(loc.path), names: loc.ref ? [loc.ref] : [] };
    case 'oci-archive': return { dest: new OciArchiveDestination(loc.path), names: loc.ref ? [loc.ref] : [] };
    case 'docker-archive': {
      const name = loc.ref ?? sourceName;
      return { dest: new DockerArchiveDestination(loc.path), names: name ? [dockerName(name)] : [] };
    }
  }
}

/** A name as a docker-archive's RepoTags hold it (a full reference); an OCI ref name that is not one is left out. */
function dockerName(name: string): string {
  return parseDockerRef(name).full;
}
