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
export { copyImage, type CopyOptions, type CopyResult } from './copy/copy.js';
export type { CopyEvent, CopyListener } from './copy/events.js';
export type { ImageSink, ImageSource, BlobOutcome } from './image/endpoint.js';
