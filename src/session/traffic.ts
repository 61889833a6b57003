import type { TrafficTotals } from "../facts.js";

export type { TrafficTotals };

export class TrafficMeter implements TrafficTotals {
  stanzasIn = 0;
  stanzasOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  roundTrips = 0;
  logins = 0;

  /** Meters that also feed a parent (a session's meter feeds the run's). */
  constructor(private readonly parent?: TrafficMeter) {}

  add(field: keyof TrafficTotals, n = 1): void {
    this[field] += n;
    this.parent?.add(field, n);
  }

  totals(): TrafficTotals {
    const { stanzasIn, stanzasOut, bytesIn, bytesOut, roundTrips, logins } = this;
    return { stanzasIn, stanzasOut, bytesIn, bytesOut, roundTrips, logins };
  }
}
