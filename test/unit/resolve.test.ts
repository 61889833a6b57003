import { describe, expect, it } from "vitest";
import { lookupSrv, orderSrv, resolveEndpoints, type SrvRecord } from "../../src/session/resolve.js";

const fail = async () => {
  throw Object.assign(new Error("queryNotFound"), { code: "ENOTFOUND" });
};

/** A random source that returns these numbers in turn. */
const sequence = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

describe("endpoint resolution", () => {
  it("--host wins over DNS, with the mode's default port", async () => {
    expect(await resolveEndpoints("example.org", "starttls", { host: "127.0.0.1" }, fail)).toEqual([
      { host: "127.0.0.1", port: 5222, source: "configured" },
    ]);
    expect(await resolveEndpoints("example.org", "direct", { host: "h", port: 1 }, fail)).toEqual([{ host: "h", port: 1, source: "configured" }]);
  });

  it("SRV records in priority order; within a priority, RFC 2782's weighted pick", async () => {
    const records: SrvRecord[] = [
      { name: "b", port: 2, priority: 10, weight: 5 },
      { name: "a", port: 1, priority: 5, weight: 0 },
      { name: "c", port: 3, priority: 10, weight: 50 },
    ];
    // Priority 10 has b (5) and c (50): running sums 5, 55. A pick of 0..5 takes b, 6..55 takes c.
    expect(orderSrv(records, sequence(0)).map((r) => r.name)).toEqual(["a", "b", "c"]);
    expect(orderSrv(records, sequence(0.5)).map((r) => r.name)).toEqual(["a", "c", "b"]);
    const endpoints = await resolveEndpoints("example.org", "starttls", {}, {
      random: sequence(0.99),
      lookup: async (name) => {
        expect(name).toBe("_xmpp-client._tcp.example.org");
        return records;
      },
    });
    expect(endpoints.map((e) => `${e.host}:${e.port}`)).toEqual(["a:1", "c:3", "b:2"]);
    expect(endpoints[0]).toMatchObject({ source: "srv", service: "_xmpp-client._tcp" });
  });

  it("weights share the load as RFC 2782 intends", () => {
    const records: SrvRecord[] = [
      { name: "b-heavy", port: 2, priority: 0, weight: 90 },
      { name: "a-light", port: 1, priority: 0, weight: 10 },
    ];
    // Candidates sorted by name: a-light (running sum 10), b-heavy (100); picks 0..100.
    let heavyFirst = 0;
    for (let i = 0; i <= 100; i++) if (orderSrv(records, () => i / 101)[0]!.name === "b-heavy") heavyFirst++;
    expect(heavyFirst).toBe(90);
  });

  it("the order does not depend on the order the DNS server answered in", () => {
    const records: SrvRecord[] = [
      { name: "x", port: 1, priority: 0, weight: 30 },
      { name: "y", port: 2, priority: 0, weight: 30 },
      { name: "z", port: 3, priority: 0, weight: 0 },
    ];
    const order = (list: SrvRecord[]) => orderSrv(list, sequence(0.4, 0.1, 0.7)).map((r) => r.name).join();
    expect(order(records)).toBe(order([...records].reverse()));
  });

  it("weight-0 records come last unless nothing else is left, or the pick is 0", () => {
    const records: SrvRecord[] = [
      { name: "zero", port: 1, priority: 0, weight: 0 },
      { name: "one", port: 2, priority: 0, weight: 1 },
    ];
    expect(orderSrv(records, sequence(0.9)).map((r) => r.name)).toEqual(["one", "zero"]);
    expect(orderSrv(records, sequence(0)).map((r) => r.name)).toEqual(["zero", "one"]);
  });

  it("no SRV record: the domain itself on 5222; direct TLS has no such fallback", async () => {
    expect(await resolveEndpoints("example.org", "starttls", {}, fail)).toEqual([{ host: "example.org", port: 5222, source: "fallback" }]);
    await expect(resolveEndpoints("example.org", "direct", {}, fail)).rejects.toThrow(/no _xmpps-client._tcp.example.org SRV record/);
  });

  it('a "." target means the service is not offered, named in the error', async () => {
    for (const name of [".", ""]) {
      await expect(
        resolveEndpoints("example.org", "starttls", {}, async () => [{ name, port: 0, priority: 0, weight: 0 }]),
      ).rejects.toThrow(/_xmpp-client._tcp.example.org SRV record \(target "."\).*_xmpp-client._tcp is not offered/);
    }
  });

  it("with a DNS server given, targets become addresses (the name kept), and a silent server is an error", async () => {
    const endpoints = await resolveEndpoints("example.org", "starttls", {}, {
      dns: "127.0.0.1:1",
      lookup: async () => [{ name: "xmpp.example.org", port: 5222, priority: 0, weight: 0 }],
      addresses: async (name) => (name === "xmpp.example.org" ? ["192.0.2.1", "192.0.2.2"] : []),
    });
    expect(endpoints).toEqual([
      { host: "192.0.2.1", port: 5222, source: "srv", service: "_xmpp-client._tcp", name: "xmpp.example.org" },
      { host: "192.0.2.2", port: 5222, source: "srv", service: "_xmpp-client._tcp", name: "xmpp.example.org" },
    ]);
    const refused = async () => {
      throw Object.assign(new Error("querySrv ECONNREFUSED"), { code: "ECONNREFUSED" });
    };
    await expect(resolveEndpoints("example.org", "starttls", {}, { dns: "127.0.0.1:1", lookup: refused })).rejects.toThrow(
      /SRV lookup of _xmpp-client._tcp.example.org failed \(DNS server 127.0.0.1:1\)/,
    );
    // The system resolver failing is "no answer": fall back to the domain (RFC 6120 §3.2.2).
    expect(await resolveEndpoints("example.org", "starttls", {}, { lookup: refused })).toEqual([{ host: "example.org", port: 5222, source: "fallback" }]);
  });

  it("lookupSrv classifies the answers", async () => {
    expect(await lookupSrv("example.org", "_xmpps-client._tcp", { lookup: fail })).toEqual({
      service: "_xmpps-client._tcp",
      query: "_xmpps-client._tcp.example.org",
      status: "none",
      code: "ENOTFOUND",
    });
    expect((await lookupSrv("example.org", "_xmpps-client._tcp", { lookup: async () => [{ name: "", port: 0, priority: 0, weight: 0 }] })).status).toBe("not-offered");
    expect((await lookupSrv("example.org", "_xmpps-client._tcp", { lookup: async () => [] })).status).toBe("none");
  });
});

describe("--dns and --direct-tls-port on the command line", () => {
  const flags = { tls: "starttls", timeout: 10, scenarioTimeout: 60, concurrency: 4, maxConnections: 8, maxAccountSessions: 8, scenarios: true, transport: "tcp", suite: [], only: [], skip: [] };
  const env = { XEPCHECK_PASSWORD: "pw" };

  it("passes both to the run", async () => {
    const { runOptionsFrom } = await import("../../src/cli/options.js");
    const opts = runOptionsFrom("alice@example.org", { ...flags, host: "127.0.0.1", directTlsPort: 5223, dns: "127.0.0.1:5353" } as never, env);
    expect(opts).toMatchObject({ host: "127.0.0.1", directTlsPort: 5223, dns: "127.0.0.1:5353" });
  });

  it("--direct-tls-port needs --host: without it, SRV records give the port", async () => {
    const { runOptionsFrom } = await import("../../src/cli/options.js");
    expect(() => runOptionsFrom("alice@example.org", { ...flags, directTlsPort: 5223 } as never, env)).toThrow(/--direct-tls-port needs --host/);
  });
});
