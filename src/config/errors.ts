/** Typed errors of the config layer: unreadable config files and failing credential helpers. */
import { TsDockerError } from '../errors.js';

/** A config file (ours or docker's) that cannot be read or parsed. */
export class ConfigFileError extends TsDockerError {
  constructor(readonly path: string, message: string, options?: { cause?: unknown }) {
    super('CONFIG_FILE', message, options);
  }
}

/** A `docker-credential-<name>` helper that is missing or failed. */
export class CredentialHelperError extends TsDockerError {
  constructor(readonly helper: string, message: string, options?: { cause?: unknown }) {
    super('CREDENTIAL_HELPER', message, options);
  }
}
