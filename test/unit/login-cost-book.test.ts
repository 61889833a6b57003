import { describe, expect, it } from "vitest";
import { LOGIN_FLAVOURS, LoginCostBook, type LoginCost } from "../../src/probe/login-cost.js";
import type { XmppStream } from "../../src/session/stream.js";
import { TrafficMeter } from "../../src/session/traffic.js";

/** A stream whose login took `roundTrips` round trips and began `msAgo` ago. */
function streamAfterLogin(roundTrips: number, msAgo: number): XmppStream {
  const meter = new TrafficMeter();
  meter.add("roundTrips", roundTrips);
  meter.add("bytesOut", 100 * roundTrips);
  meter.add("bytesIn", 300 * roundTrips);
  return { meter, openedAt: performance.now() - msAgo } as unknown as XmppStream;
}

describe("LoginCostBook: the rows the scenarios' own logins measure", () => {
  it("takes a row from the stream's meter and clock, naming the check", () => {
    const book = new LoginCostBook();
    book.record("directTls", streamAfterLogin(7, 20), "SCRAM-SHA-256 on port 5223", "xep0368.direct-tls");
    expect(book.has("directTls")).toBe(true);
    expect(book.has("sasl2")).toBe(false);
    const [row] = book.merged([]);
    expect(row).toMatchObject({ flavour: LOGIN_FLAVOURS.directTls, ok: true, roundTrips: 7, bytesOut: 700, bytesIn: 2100, note: "SCRAM-SHA-256 on port 5223; the login of xep0368.direct-tls" });
    expect(row!.ms).toBeGreaterThanOrEqual(20);
  });

  it("keeps the first login of a flavour (FAST-auth logs in once per mechanism)", () => {
    const book = new LoginCostBook();
    book.record("fast", streamAfterLogin(6, 5), "HT-SHA-256-EXPR", "xep0484.fast-auth");
    book.record("fast", streamAfterLogin(9, 5), "HT-SHA-256-NONE", "xep0484.fast-auth");
    expect(book.merged([]).map((r) => r.roundTrips)).toEqual([6]);
  });

  it("merges with the table's own measurements in the table's order", () => {
    const book = new LoginCostBook();
    book.record("smResume", streamAfterLogin(9, 1), "resumed", "xep0198.resume");
    book.record("starttls", streamAfterLogin(10, 1), "SCRAM-SHA-1", "xep0198.resume");
    const measured: LoginCost[] = [
      { flavour: LOGIN_FLAVOURS.fastResume, ok: true, roundTrips: 6, bytesIn: 1, bytesOut: 1, ms: 1 },
      { flavour: LOGIN_FLAVOURS.directTls, ok: true, roundTrips: 7, bytesIn: 1, bytesOut: 1, ms: 1 },
    ];
    expect(book.merged(measured).map((r) => r.flavour)).toEqual([LOGIN_FLAVOURS.starttls, LOGIN_FLAVOURS.directTls, LOGIN_FLAVOURS.smResume, LOGIN_FLAVOURS.fastResume]);
  });
});
