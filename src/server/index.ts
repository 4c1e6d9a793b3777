/** The built-in registry server (`ts-docker registry serve`). */
export { DEFAULT_UPLOAD_PURGING, parseAddr, startRegistryServer, type RegistryServerOptions, type RunningRegistry, type UploadPurging } from './server.js';
export { RegistryStorage } from './storage.js';
