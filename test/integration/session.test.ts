/**
 * The session layer against real servers: every SCRAM variant each server
 * offers logs in with the server signature verified; PLAIN over TLS; the
 * traffic meter counts; an iq error carries its condition.
 */
import { readFileSync } from "node:fs";
import { xml } from "@xmpp/xml";
import { describe, expect, inject, it } from "vitest";
import { StanzaError } from "../../src/session/errors.js";
import { login, type LoginOptions } from "../../src/session/login.js";
import { TrafficMeter } from "../../src/session/traffic.js";
import type { ServerInfo } from "../servers/harness.js";

const servers = inject("servers");

function options(s: ServerInfo, mechanisms?: string[], meter?: TrafficMeter): LoginOptions {
  const [username] = s.accounts[0]!.jid.split("@") as [string];
  return {
    domain: s.domain,
    host: "127.0.0.1",
    port: s.ports.c2s,
    mode: "starttls",
    tls: { ca: readFileSync(s.caFile, "utf8") },
    timeoutMs: 10_000,
    credentials: { username, password: s.accounts[0]!.password },
    mechanisms,
    meter,
  };
}

const MECHANISMS = { prosody: ["SCRAM-SHA-1", "SCRAM-SHA-256", "PLAIN"], ejabberd: ["SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"] };

for (const kind of ["prosody", "ejabberd"] as const) {
  const server = servers[kind];
  describe.runIf(server)(`session against ${kind}`, () => {
    const s = server!;

    for (const mechanism of MECHANISMS[kind]) {
      it(`logs in with ${mechanism}`, async () => {
        const session = await login(options(s, [mechanism]));
        try {
          expect(session.mechanism).toBe(mechanism);
          expect(session.offeredMechanisms).toContain(mechanism);
          expect(session.jid).toMatch(new RegExp(`^alice@${s.domain.replace(".", "\\.")}/.+`));
        } finally {
          await session.stream.close();
        }
      });
    }

    it("picks the strongest mechanism offered by default", async () => {
      const session = await login(options(s));
      await session.stream.close();
      expect(session.mechanism).toBe(kind === "ejabberd" ? "SCRAM-SHA-512" : "SCRAM-SHA-256");
    });

    it("meters traffic and answers iq errors with their condition", async () => {
      const meter = new TrafficMeter();
      const session = await login(options(s, undefined, meter));
      try {
        const afterLogin = meter.totals();
        // TCP, stream, STARTTLS, TLS, stream, 2 SASL steps, stream, bind.
        expect(afterLogin.roundTrips).toBe(9);
        expect(afterLogin.stanzasOut).toBe(4);
        const unknown = session.stream.iq(xml("iq", { type: "get", to: s.domain }, xml("query", { xmlns: "urn:xepcheck:nonexistent" })));
        await expect(unknown).rejects.toBeInstanceOf(StanzaError);
        await expect(unknown).rejects.toMatchObject({ condition: expect.stringMatching(/service-unavailable|feature-not-implemented/) });
        expect(meter.roundTrips).toBe(10);
      } finally {
        await session.stream.close();
      }
    });
  });
}
