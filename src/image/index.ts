/** The image model: media types, digests, descriptors, manifests, configs, platforms. */
export * from './media-types.js';
export * from './digest.js';
export * from './descriptor.js';
export * from './manifest.js';
export * from './config.js';
export * from './platform.js';
