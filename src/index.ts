/**
 * ts-docker as a library: everything the CLI does, as typed functions.
 * `import { Store, load, tag, images } from 'ts-docker'`.
 */
export * from './errors.js';
export * from './reference/index.js';
export * from './image/index.js';
export * from './store/index.js';
export { tag } from './ops/tag.js';
export { rmi, type RmiEvent, type RmiOptions, type RmiResult } from './ops/rmi.js';
export { images, parseFilters, type ImageRow, type ImagesOptions } from './ops/images.js';
export { inspect, inspectRecord, type ImageInspect } from './ops/inspect.js';
export { load, type LoadEvent } from './ops/load.js';
export { save, saveToFile, resolveSave } from './ops/save.js';
export { importImage, sourceDateEpoch, type ImportOptions, type ImportSource } from './ops/import.js';
export { prune, type PruneResult } from './ops/prune.js';
export { info, type StoreInfo } from './ops/info.js';
export { push, type PushOptions } from './ops/push.js';
export { pull, type PullOptions } from './ops/pull.js';
export { login, logout, verifyLogin, type LoginOptions } from './ops/login.js';
export { CredentialStore } from './config/credentials.js';
export { loadSettings, parseSize, type Settings } from './config/settings.js';
export { Transport, type TransportOptions } from './transport/transport.js';
export type { CredentialProvider, Credentials } from './transport/auth.js';
export { RegistryClient } from './registry/client.js';
export { RegistryError } from './registry/errors.js';
export { copyImage, copyImages, type CopyOptions, type CopyResult, type CopyRoot } from './copy/copy.js';
export type { BlobState, CopyEvent, CopyListener } from './image/progress.js';
export type { BlobInfo, BlobOutcome, BlobRead, BlobReader, CopiedImage, ImageDestination, ImageSource } from './image/endpoint.js';
export { StoreDestination, StoreSource } from './store/endpoint.js';
export { RegistryDestination, RegistrySource } from './registry/endpoint.js';
export { OciLayoutDestination, OciLayoutSource } from './archive/oci-layout.js';
export { OciArchiveDestination, OciArchiveSource } from './archive/oci-archive.js';
export { DockerArchiveDestination, DockerArchiveSource } from './archive/docker-archive.js';
export { copy, type CopyCommandOptions, type CopyOutcome } from './ops/copy.js';
export { listReferrers, pushReferrer } from './registry/referrers.js';
