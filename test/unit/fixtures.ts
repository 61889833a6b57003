/** Builds a ProbeResult for check tests from XML literals and small objects. */
import type { CheckContext } from "../../src/checks/types.js";
import type { Target } from "../../src/scenario/scenario.js";
import { TrafficMeter } from "../../src/session/traffic.js";
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

/** Where scenarios connect for a fake server on loopback: STARTTLS, its certificate trusted, short deadlines. */
export function fakeTarget(domain: string, port: number, ca: string, timeoutMs = 800): Target {
  return {
    domain,
    host: "127.0.0.1",
    port,
    mode: "starttls",
    tls: { ca },
    timeoutMs,
    configuredHost: true,
    alpn: ["xmpp-client"],
    transport: "tcp",
    limits: {},
    meter: new TrafficMeter(),
  };
}
