import { describe, expect, it } from "vitest";
import { dnsmasqArgs } from "../../test/servers/dns.js";

describe("the test DNS server's command line", () => {
  it("serves only the given zones on loopback, with SRV, '.' targets and host records", () => {
    const args = dnsmasqArgs({
      port: 5353,
      zones: ["example.test"],
      srv: [
        { name: "_xmpp-client._tcp.example.test", target: "xmpp.example.test", port: 5222, priority: 10, weight: 5 },
        { name: "_xmpps-client._tcp.example.test" },
      ],
      hosts: [{ name: "xmpp.example.test", addresses: ["127.0.0.1", "::1"] }],
    });
    expect(args).toEqual(
      expect.arrayContaining([
        "--port=5353",
        "--listen-address=127.0.0.1",
        "--bind-interfaces",
        "--no-resolv",
        "--no-hosts",
        "--conf-file=/dev/null",
        "--local=/example.test/",
        "--srv-host=_xmpp-client._tcp.example.test,xmpp.example.test,5222,10,5",
        "--srv-host=_xmpps-client._tcp.example.test",
        "--host-record=xmpp.example.test,127.0.0.1",
        "--host-record=xmpp.example.test,::1",
      ]),
    );
    // Never a daemon, never a pid file of its own: the tests stop it by PID.
    expect(args).toContain("--keep-in-foreground");
    expect(args).toContain("--pid-file=");
  });
});
