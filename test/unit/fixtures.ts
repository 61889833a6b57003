/** Builds a ProbeResult for check tests from XML literals and small objects. */
import type { CheckContext } from "../../src/checks/types.js";
import { parseDiscoInfo } from "../../src/probe/disco.js";
import type { ComponentInfo, ProbeResult } from "../../src/probe/probe.js";
import parse from "@xmpp/xml/lib/parse.js";

export function disco(jid: string, queryXml: string) {
  return parseDiscoInfo(jid, parse(queryXml));
}

export function component(jid: string, queryXml: string): ComponentInfo {
  return disco(jid, queryXml);
}

export function context(parts: Partial<ProbeResult> = {}, tlsMode: "starttls" | "direct" = "starttls"): CheckContext {
  const empty = "<query xmlns='http://jabber.org/protocol/disco#info'/>";
  const probe: ProbeResult = {
    domain: disco("example.org", empty),
    account: disco("alice@example.org", empty),
    components: [],
    software: {},
    contactAddresses: {},
    streamFeatures: [
      { stage: "after-starttls", xml: "<stream:features/>" },
      { stage: "after-auth", xml: "<stream:features/>" },
    ],
    tls: null,
    sasl: { offered: ["SCRAM-SHA-1"], used: "SCRAM-SHA-1" },
    jid: "alice@example.org/x",
    ...parts,
  };
  return { domain: "example.org", probe, tlsMode };
}
