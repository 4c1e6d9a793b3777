/**
 * Docker Hub normalization constants and limits, as in github.com/distribution/reference
 * (normalize.go, reference.go).
 */

/** The domain familiar names normalize to (`ubuntu` -> `docker.io/library/ubuntu`). */
export const DEFAULT_DOMAIN = 'docker.io';

/** The legacy Docker Hub domain ("the Docker Index"), canonicalized to {@link DEFAULT_DOMAIN}. */
export const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';

/** Namespace of Docker Hub's official images, added to single-component names on docker.io. */
export const OFFICIAL_REPO_PREFIX = 'library/';

/** The tag TagNameOnly / parseDockerRef add when a reference has neither tag nor digest. */
export const DEFAULT_TAG = 'latest';

/** Upstream RepositoryNameTotalLengthMax: the longest repository path (the name without its domain). */
export const REPOSITORY_NAME_TOTAL_LENGTH_MAX = 255;

/** Upstream NameTotalLengthMax (deprecated alias of {@link REPOSITORY_NAME_TOTAL_LENGTH_MAX}). */
export const NAME_TOTAL_LENGTH_MAX = REPOSITORY_NAME_TOTAL_LENGTH_MAX;
