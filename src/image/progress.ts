/**
 * Progress of a copy as typed states, for the CLI to render (docker's lines, live bars, or
 * NDJSON). No English here: the CLI alone turns states into docker's words (cli/progress.ts).
 */

/** Where one blob is. */
export type BlobState =
  /** Queued behind the concurrency limit. */
  | { state: 'waiting' }
  /** The destination had it. */
  | { state: 'exists' }
  /** Mounted from another repository of the same registry (no bytes moved). */
  | { state: 'mounted'; from: string }
  /** Bytes moving. */
  | { state: 'transferring'; current: number; total: number }
  /** Moved and verified. */
  | { state: 'done' };

/** A copy's progress, one event at a time. */
export type CopyEvent =
  /** A blob's state changed (layers only: configs and manifests are not shown). */
  | ({ type: 'blob'; id: string; digest: string } & BlobState)
  /** A failure about to be retried in `inSeconds`. */
  | { type: 'retrying'; id?: string | undefined; attempt: number; inSeconds: number; reason: string }
  /** An upload session the registry rejected was dropped: the blob goes again from byte 0. */
  | { type: 'restarted'; id: string; reason: string }
  /** A push to `repository` begins (docker's `The push refers to repository [...]`). */
  | { type: 'push-start'; repository: string }
  /** A pull of `ref` (a tag or digest) from `repository` begins (`TAG: Pulling from REPO`). */
  | { type: 'pull-start'; ref: string; repository: string }
  /** A root manifest was written under `tag` (`TAG: digest: sha256:... size: N`). */
  | { type: 'pushed'; tag: string; digest: string; size: number }
  /** A pull ended: `changed` false when the store had it all (`Image is up to date`). */
  | { type: 'pulled'; reference: string; digest: string; changed: boolean }
  /** A copy ended: `upToDate` when the destination had the root already and nothing moved. */
  | { type: 'copied'; source: string; destination: string; digest: string; upToDate: boolean };

/** Receives events. */
export type CopyListener = (e: CopyEvent) => void;

/** A retry of the one policy (transport/retry.ts) as an event. */
export function retryingEvent(e: { attempt: number; delayMs: number; reason: string }, id?: string): CopyEvent {
  return { type: 'retrying', ...(id !== undefined ? { id } : {}), attempt: e.attempt, inSeconds: Math.max(1, Math.round(e.delayMs / 1000)), reason: e.reason };
}
