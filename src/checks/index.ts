/**
 * Every check xepcheck knows, one module per spec. Add a spec by adding its
 * module here; its checks' ids must be new.
 */
import rfc5802 from "./rfc-5802-scram.js";
import rfc6120 from "./rfc-6120-core.js";
import rfc6120Streams from "./rfc-6120-streams.js";
import rfc6120Binding from "./rfc-6120-binding.js";
import rfc6120Stanzas from "./rfc-6120-stanzas.js";
import rfc6121 from "./rfc-6121-im.js";
import rfc7395 from "./rfc-7395-websocket.js";
import rfc7590 from "./rfc-7590-tls.js";
import type { Check } from "./types.js";
import xep0012 from "./xep-0012-last-activity.js";
import xep0030 from "./xep-0030-disco.js";
import xep0045 from "./xep-0045-muc.js";
import xep0048 from "./xep-0048-bookmarks.js";
import xep0049 from "./xep-0049-private-xml.js";
import xep0054 from "./xep-0054-vcard-temp.js";
import xep0065 from "./xep-0065-bytestreams-proxy.js";
import xep0077 from "./xep-0077-register.js";
import xep0092 from "./xep-0092-software-version.js";
import xep0114 from "./xep-0114-component.js";
import xep0115 from "./xep-0115-caps.js";
import xep0153 from "./xep-0153-vcard-avatars.js";
import xep0156 from "./xep-0156-host-meta.js";
import xep0157 from "./xep-0157-contact-addresses.js";
import xep0160 from "./xep-0160-offline-messages.js";
import xep0163 from "./xep-0163-pep.js";
import xep0191 from "./xep-0191-blocking.js";
import xep0198 from "./xep-0198-stream-management.js";
import xep0199 from "./xep-0199-ping.js";
import xep0202 from "./xep-0202-time.js";
import xep0206 from "./xep-0206-bosh.js";
import xep0215 from "./xep-0215-external-services.js";
import xep0223 from "./xep-0223-private-pubsub.js";
import xep0237 from "./xep-0237-roster-versioning.js";
import xep0249 from "./xep-0249-direct-invitations.js";
import xep0280 from "./xep-0280-carbons.js";
import xep0313 from "./xep-0313-mam.js";
import xep0352 from "./xep-0352-csi.js";
import xep0357 from "./xep-0357-push.js";
import xep0359 from "./xep-0359-stanza-id.js";
import xep0363 from "./xep-0363-upload.js";
import xep0368 from "./xep-0368-direct-tls.js";
import xep0369 from "./xep-0369-mix.js";
import xep0384 from "./xep-0384-omemo.js";
import xep0386 from "./xep-0386-bind2.js";
import xep0388 from "./xep-0388-sasl2.js";
import xep0398 from "./xep-0398-avatar-conversion.js";
import xep0402 from "./xep-0402-pep-bookmarks.js";
import xep0410 from "./xep-0410-muc-self-ping.js";
import xep0421 from "./xep-0421-occupant-id.js";
import xep0484 from "./xep-0484-fast.js";

export const ALL_CHECKS: readonly Check[] = [
  ...rfc5802, ...rfc6120, ...rfc6120Streams, ...rfc6120Binding, ...rfc6120Stanzas, ...rfc6121, ...rfc7395, ...rfc7590,
  ...xep0012, ...xep0030, ...xep0045, ...xep0048, ...xep0049, ...xep0054, ...xep0065, ...xep0077, ...xep0092,
  ...xep0114, ...xep0115, ...xep0153, ...xep0156, ...xep0157, ...xep0160, ...xep0163, ...xep0191, ...xep0198, ...xep0199,
  ...xep0202, ...xep0206, ...xep0215, ...xep0223, ...xep0237, ...xep0249, ...xep0280, ...xep0313, ...xep0352, ...xep0357,
  ...xep0359, ...xep0363, ...xep0368, ...xep0369, ...xep0384, ...xep0386, ...xep0388, ...xep0398, ...xep0402,
  ...xep0410, ...xep0421, ...xep0484,
];

const seen = new Set<string>();
for (const check of ALL_CHECKS) {
  if (seen.has(check.id)) throw new Error(`duplicate check id ${check.id}`);
  seen.add(check.id);
}
