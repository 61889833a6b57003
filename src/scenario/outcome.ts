/** How a scenario ends other than by succeeding. */

/** The server did not do what the spec requires: works = false. */
export class ScenarioFailure extends Error {
  override name = "ScenarioFailure";
  constructor(
    readonly expected: string,
    readonly actual: string,
    /** The level of what was not met, when it is not the check's own (a SHOULD inside a MUST check). */
    readonly level?: "SHOULD",
  ) {
    super(`expected ${expected}; got ${actual}`);
  }
}

/** The environment does not allow the test (no MUC service, room creation refused, no second account). */
export class ScenarioSkip extends Error {
  override name = "ScenarioSkip";
}

/**
 * The server kept asking us to slow down after every retry: we could not
 * tell whether the feature works (verdict error), and we stopped asking.
 */
export class ServerBusy extends Error {
  override name = "ServerBusy";
  constructor(
    readonly condition: string,
    readonly attempts: number,
    readonly waitedMs: number,
  ) {
    super(`the server still asked us to slow down (${condition}) after ${attempts} attempts and ${waitedMs} ms of back-off`);
  }
}
