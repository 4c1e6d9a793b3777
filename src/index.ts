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
