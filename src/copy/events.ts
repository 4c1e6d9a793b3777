/** Progress events of a copy, for the CLI to render (plain lines, live bars, or NDJSON). */

/** A copy's progress, one event at a time. */
export type CopyEvent =
  /** A line of its own (`The push refers to repository [...]`, `Digest: ...`). */
  | { type: 'message'; text: string }
  /** A layer's state changed: `Waiting`, `Pushed`, `Layer already exists`, `Mounted from x`, `Pull complete`, `Already exists`... */
  | { type: 'status'; id: string; digest: string; status: string }
  /** Bytes moved for a layer. */
  | { type: 'progress'; id: string; action: 'Pushing' | 'Downloading'; current: number; total: number }
  /** A failure about to be retried. */
  | { type: 'retry'; id?: string; attempt: number; delayMs: number; reason: string }
  /** A pushed tag's digest (docker's `<tag>: digest: sha256:... size: N`). */
  | { type: 'digest'; tag: string; digest: string; size: number };

/** Receives events. */
export type CopyListener = (e: CopyEvent) => void;
