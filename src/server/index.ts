/** The built-in registry server (`ts-docker registry serve`). */
export { parseAddr, startRegistryServer, type RegistryServerOptions, type RunningRegistry } from './server.js';
export { RegistryStorage } from './storage.js';
