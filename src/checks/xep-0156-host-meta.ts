/**
 * XEP-0156: Discovering Alternative XMPP Connection Methods (host-meta)
 * https://xmpp.org/extensions/xep-0156.html
 */
import type { Check } from "./types.js";

export default [] as Check[];
