/** Bad gate input (a --require value, a baseline, a report file): a usage error, exit 2. */
export class GateInputError extends Error {
  override name = "GateInputError";
}
