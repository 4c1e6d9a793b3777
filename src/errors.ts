/**
 * Typed errors shared by every layer. A leaf module: imports nothing of ours, so
 * `reference/` and `image/` may use it too. The CLI funnel prints `message` on one line
 * and exits with `exitCode`.
 */

/** Base class of every error ts-docker raises on purpose. */
export class TsDockerError extends Error {
  /** Machine-readable kind, stable across releases. */
  readonly code: string;
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number = 1;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An image, name or blob that does not exist (`No such image: foo:latest`). */
export class NotFoundError extends TsDockerError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

/** A request that would break something unless forced (docker's `conflict: ...`). */
export class ConflictError extends TsDockerError {
  constructor(message: string) {
    super('CONFLICT', message);
  }
}

/** A bad argument or flag value given by the user. */
export class InvalidArgumentError extends TsDockerError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
  }
}

/** Content whose digest or size is not what it claims to be. */
export class DigestMismatchError extends TsDockerError {
  constructor(message: string) {
    super('DIGEST_MISMATCH', message);
  }
}

/** A malformed manifest, index, config or archive. */
export class InvalidContentError extends TsDockerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_CONTENT', message, options);
  }
}

/** The store could not be locked or is in a state we refuse to touch. */
export class StoreError extends TsDockerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORE', message, options);
  }
}

/** The user stopped the command (Ctrl-C); what was done is kept for the next run to resume. */
export class InterruptedError extends TsDockerError {
  override readonly exitCode: number = 130;
  constructor(message = 'interrupted: run the same command again to resume') {
    super('INTERRUPTED', message);
  }
}
