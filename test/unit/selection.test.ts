/** --only and --skip: which checks run, and whether the login-cost table is measured. */
import { describe, expect, it } from "vitest";
import { loginCostsSelected, selectChecks } from "../../src/runner/run.js";

describe("selection", () => {
  it("runs only the checks --only names, less those --skip names", () => {
    const ids = selectChecks(["xep0030.*"], ["xep0030.domain*"]).map((c) => c.id);
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.every((id) => id.startsWith("xep0030.") && !id.startsWith("xep0030.domain"))).toBe(true);
    expect(selectChecks([], [], false).every((c) => c.kind === "advertisement")).toBe(true);
  });

  it("measures the login costs in a full run, and with --only only when it names login-cost", () => {
    expect(loginCostsSelected([], [])).toBe(true);
    expect(loginCostsSelected(["xep0030.*"], [])).toBe(false);
    expect(loginCostsSelected(["xep0030.*", "login-cost"], [])).toBe(true);
    expect(loginCostsSelected(["*"], [])).toBe(true);
    expect(loginCostsSelected([], ["login-cost"])).toBe(false);
  });
});
