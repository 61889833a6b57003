/** The exit codes of every command (README: Exit codes). */
export const EXIT = {
  ok: 0,
  /** A --require or --baseline gate was not met. */
  gate: 1,
  /** Bad arguments or configuration. */
  usage: 2,
  /** Could not connect to or log in to the server (any server of a targets file). */
  login: 3,
  /** A bug in xepcheck. */
  internal: 4,
  /** Stopped by SIGINT/SIGTERM; the partial report was written. */
  interrupted: 130,
} as const;
