/** How a scenario ends other than by succeeding. */

/** The server did not do what the spec requires: works = false. */
export class ScenarioFailure extends Error {
  override name = "ScenarioFailure";
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`expected ${expected}; got ${actual}`);
  }
}

/** The environment does not allow the test (no MUC service, room creation refused, no second account). */
export class ScenarioSkip extends Error {
  override name = "ScenarioSkip";
}
