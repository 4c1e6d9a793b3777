/** `ts-docker rm [-f] CONTAINER...`. */
export { rm as default } from './stop.js';
