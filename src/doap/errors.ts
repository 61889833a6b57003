/** A DOAP file or report that cannot be used: exit 2 with the message. */
export class DoapInputError extends Error {
  override name = "DoapInputError";
}
