/**
 * The run settings' defaults, declared once: the command line's options and
 * a targets file's `defaults` both start from these (and the help text
 * shows them).
 */
export const RUN_DEFAULTS = {
  tls: "starttls",
  /** Seconds for each protocol step and expected stanza. */
  timeout: 10,
  /** Seconds for one live scenario. */
  scenarioTimeout: 60,
  /**
   * Live scenarios at once. Three: the connection limit, not this, bounds a
   * run's pace; a fourth at once adds logins (fewer sessions come back to be
   * shared) without making a run faster (bench/full-run).
   */
  concurrency: 3,
  /** Connections open at once to the server, the main session included. */
  maxConnections: 8,
  /**
   * Sessions of one account open at once, the main session included: below
   * the 10 that ejabberd's and MongooseIM's default max_user_sessions allow
   * (the eleventh replaces the oldest, which may be the account's own
   * client), leaving room for two of the account's own clients.
   */
  maxAccountSessions: 8,
  scenarios: true,
  transport: "tcp",
} as const;
