// Progress of pulls and pushes as docker's JSON messages describe it, so that the CLI and the
// Engine API render the same events.
export interface ProgressEvent {
  /** The short layer ID (12 hex), or absent for a status line about the whole operation. */
  id?: string;
  status: string;
  progressDetail?: { current: number; total?: number };
}

export type ProgressSink = (event: ProgressEvent) => void;
