/**
 * XEP-0421: Anonymous unique occupant identifiers for MUCs
 * https://xmpp.org/extensions/xep-0421.html
 */
import type { Check } from "./types.js";

export default [] as Check[];
