/**
 * The probe: everything a server says about itself to a logged-in client.
 * Gathers facts only; checks judge them.
 */
import { StanzaError } from "../session/errors.js";
import { xml } from "@xmpp/xml";
import pLimit from "p-limit";
import { DEFAULT_MAX_DISCO_ITEMS } from "../limits.js";
import type { Session } from "../session/login.js";
import { discoInfo, discoItems, type DataForm } from "./disco.js";
import type { ComponentInfo, SoftwareVersion, ProbeResult } from "../facts.js";

export type { ComponentInfo, SoftwareVersion, ProbeResult };

export const NS_VERSION = "jabber:iq:version";
export const FORM_SERVERINFO = "http://jabber.org/network/serverinfo";
export const FORM_UPLOAD = "urn:xmpp:http:upload:0";

export { DEFAULT_MAX_DISCO_ITEMS };

/** disco#info queries in flight at once on the probing session. */
const DISCO_IN_FLIGHT = 8;

export function findForm(forms: DataForm[], formType: string): DataForm | undefined {
  return forms.find((f) => f.formType === formType);
}

export async function softwareVersion(session: Session, to: string): Promise<SoftwareVersion> {
  try {
    const result = await session.stream.iq(xml("iq", { type: "get", to }, xml("query", { xmlns: NS_VERSION })));
    const q = result.getChild("query", NS_VERSION);
    const pick = (n: string) => q?.getChildText(n)?.trim() || undefined;
    return { name: pick("name"), version: pick("version"), os: pick("os") };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err), errorKind: err instanceof StanzaError ? "stanza" : "no-answer" };
  }
}

export async function probe(session: Session, domain: string, maxItems = DEFAULT_MAX_DISCO_ITEMS): Promise<ProbeResult> {
  const bare = session.jid.split("/")[0]!;
  const [domainInfo, account, items, software] = await Promise.all([
    discoInfo(session.stream, domain),
    discoInfo(session.stream, bare),
    discoItems(session.stream, domain),
    softwareVersion(session, domain),
  ]);
  // Politeness: a bounded number of items, a few queries at a time.
  const listed = items.items.filter((item) => !item.node);
  const inFlight = pLimit(DISCO_IN_FLIGHT);
  const components = await Promise.all(
    listed.slice(0, maxItems).map((item) =>
      inFlight(async (): Promise<ComponentInfo> => ({
        ...(await discoInfo(session.stream, item.jid)),
        ...(item.name ? { name: item.name } : {}),
      })),
    ),
  );
  const contact = findForm(domainInfo.forms, FORM_SERVERINFO)?.fields ?? {};
  const upload = components
    .map((c) => findForm(c.forms, FORM_UPLOAD)?.fields["max-file-size"]?.[0])
    .find((v) => v !== undefined);
  return {
    domain: domainInfo,
    account,
    components,
    ...(items.error ? { componentsError: items.error } : {}),
    ...(listed.length > maxItems ? { componentsNotProbed: listed.length - maxItems } : {}),
    software,
    contactAddresses: Object.fromEntries(Object.entries(contact).filter(([, v]) => v.length > 0)),
    ...(upload !== undefined && Number.isFinite(Number(upload)) ? { uploadMaxFileSize: Number(upload) } : {}),
    streamFeatures: [...session.stream.featureLog],
    tls: session.stream.tlsInfo,
    sasl: { offered: session.offeredMechanisms, used: session.mechanism },
    jid: session.jid,
  };
}
