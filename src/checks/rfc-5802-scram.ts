/**
 * SASL SCRAM (RFC 5802, RFC 7677) and channel binding (RFC 9266): the
 * mechanisms a server offers, and logins with the -PLUS variants.
 * https://www.rfc-editor.org/rfc/rfc5802
 */
import type { Check } from "./types.js";

export default [] as Check[];
