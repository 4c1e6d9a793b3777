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

/**
 * Why `JSON.parse` refused a file, without the excerpt of the file V8 puts in the message
 * (`Unexpected token 'x', ..."c2VjcmV0", "x": bogus}" is not valid JSON`): config files hold
 * credentials, and no part of one may reach an error message.
 */
export function jsonSyntaxReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const reason = message.replace(/,\s*(?:\.\.\.)?".*" is not valid JSON$/s, '').split('\n')[0] ?? '';
  // Any other shape that quotes the input: say only that it is not JSON.
  return reason.includes('"') || reason === '' ? 'not valid JSON' : reason;
}
