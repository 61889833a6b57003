import { describe, expect, it } from "vitest";
import { orderSrv, resolveEndpoints } from "../../src/session/resolve.js";

const fail = async () => {
  throw Object.assign(new Error("queryNotFound"), { code: "ENOTFOUND" });
};

describe("endpoint resolution", () => {
  it("--host wins over DNS, with the mode's default port", async () => {
    expect(await resolveEndpoints("example.org", "starttls", { host: "127.0.0.1" }, fail)).toEqual([
      { host: "127.0.0.1", port: 5222, source: "configured" },
    ]);
    expect(await resolveEndpoints("example.org", "direct", { host: "h", port: 1 }, fail)).toEqual([{ host: "h", port: 1, source: "configured" }]);
  });

  it("SRV records in priority order, heavier first", async () => {
    const records = [
      { name: "b", port: 2, priority: 10, weight: 5 },
      { name: "a", port: 1, priority: 5, weight: 0 },
      { name: "c", port: 3, priority: 10, weight: 50 },
    ];
    expect(orderSrv(records).map((r) => r.name)).toEqual(["a", "c", "b"]);
    const endpoints = await resolveEndpoints("example.org", "starttls", {}, async (name) => {
      expect(name).toBe("_xmpp-client._tcp.example.org");
      return records;
    });
    expect(endpoints.map((e) => `${e.host}:${e.port}`)).toEqual(["a:1", "c:3", "b:2"]);
  });

  it("no SRV record: the domain itself on 5222", async () => {
    expect(await resolveEndpoints("example.org", "starttls", {}, fail)).toEqual([{ host: "example.org", port: 5222, source: "fallback" }]);
  });

  it('a "." target means the service is not offered', async () => {
    await expect(
      resolveEndpoints("example.org", "starttls", {}, async () => [{ name: ".", port: 0, priority: 0, weight: 0 }]),
    ).rejects.toThrow(/not offered/);
  });
});
