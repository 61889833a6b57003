import net from "node:net";
import tls from "node:tls";
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, inject, it } from "vitest";
import { accountExists } from "../servers/harness.js";
import type { ServerInfo } from "../servers/harness.js";

/** Plain TCP: send a stream header, collect what the server says until </stream:features>. */
function streamFeatures(host: string, port: number, domain: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = "";
    const sock = net.connect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no </stream:features> from ${host}:${port} within ${timeoutMs} ms; got: ${buf}`));
    }, timeoutMs);
    sock.setEncoding("utf8");
    sock.on("connect", () =>
      sock.write(
        `<?xml version='1.0'?><stream:stream to='${domain}' version='1.0' xmlns='jabber:client' ` +
          `xmlns:stream='http://etherx.jabber.org/streams'>`,
      ),
    );
    sock.on("data", (d: string) => {
      buf += d;
      if (buf.includes("</stream:features>")) {
        clearTimeout(timer);
        sock.end("</stream:stream>");
        resolve(buf);
      }
    });
    sock.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

const servers = inject("servers");
const started = Object.values(servers).filter((s): s is ServerInfo => s !== undefined);

describe("test server harness", () => {
  it("started at least one server", () => {
    expect(started.length).toBeGreaterThan(0);
  });

  describe.each(started.map((s) => [s.kind, s] as const))("%s", (_kind, server) => {
    it("offers STARTTLS (required) before anything else on c2s", async () => {
      const text = await streamFeatures(server.host, server.ports.c2s, server.domain);
      expect(text).toContain("<stream:stream");
      expect(text).toContain("<stream:features");
      expect(text).toContain("<starttls");
      expect(text).toMatch(/<starttls[^>]*xmlns=['"]urn:ietf:params:xml:ns:xmpp-tls['"]/);
      expect(text).toMatch(/<required\s*\/>/);
      // no SASL before TLS: encryption is required before auth
      expect(text).not.toContain("<mechanisms");
    });

    it("has the three pre-registered accounts", async () => {
      expect(server.accounts.map((a) => a.jid).sort()).toEqual(
        ["alice", "bob", "carol"].map((u) => `${u}@${server.domain}`),
      );
      for (const a of server.accounts) {
        expect(a.password.length).toBeGreaterThanOrEqual(20);
        const user = a.jid.split("@")[0]!;
        expect(await accountExists(server, user)).toBe(true);
      }
      expect(await accountExists(server, "nobody-here")).toBe(false);
    });

    it("gives a CA file that verifies the certificate on the direct TLS port", async () => {
      expect(existsSync(server.caFile)).toBe(true);
      const ca = readFileSync(server.caFile);
      for (const servername of [server.domain, server.services.muc]) {
        const authorized = await new Promise<boolean>((resolve, reject) => {
          const s = tls.connect({ host: server.host, port: server.ports.directTls, ca, servername }, () => {
            const ok = s.authorized && tls.checkServerIdentity(servername, s.getPeerCertificate()) === undefined;
            s.destroy();
            resolve(ok);
          });
          s.on("error", reject);
        });
        expect(authorized, servername).toBe(true);
      }
    });
  });
});
