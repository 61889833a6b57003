/**
 * XEP-0237: Roster Versioning
 * https://xmpp.org/extensions/xep-0237.html
 */
import type { Check } from "./types.js";

export default [] as Check[];
