/** The archive endpoints of `copy` (oci:, oci-archive:, docker-archive:). */
import type { Location } from '../copy/locations.js';
import { InvalidArgumentError } from '../errors.js';
import type { ImageDestination } from '../image/endpoint.js';
import type { OpenedSource } from './copy.js';

/** Opens an archive location for reading. */
export async function openArchiveSource(loc: Location): Promise<OpenedSource> {
  throw new InvalidArgumentError(`${loc.text}: archives are not wired yet`);
}

/** Opens an archive location for writing; `name` is the source's name, used when the location gives none. */
export async function openArchiveDestination(loc: Location, name: string | undefined): Promise<{ dest: ImageDestination; names: string[] }> {
  throw new InvalidArgumentError(`${loc.text}: archives are not wired yet (${name})`);
}
