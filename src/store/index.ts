/** The local image store. */
export * from './store.js';
export * from './layout.js';
export * from './blobs.js';
export * from './images.js';
export * from './index-file.js';
export type { ImageSummary } from './summaries.js';
export { reachable, reachableDescriptors } from './gc.js';
