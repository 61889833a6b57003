/**
 * Parsers of single command-line arguments: light, so that commander can be
 * set up without loading what the commands run (see program.ts).
 */
import { isIPv4, isIPv6 } from "node:net";
import { InvalidArgumentError } from "commander";

/** Bad input the user can fix: exit 2 with the message. */
export class UsageError extends Error {
  override name = "UsageError";
}

export function list(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(",").map((s) => s.trim()).filter(Boolean)];
}

/** Timeouts become whole milliseconds: below 0.001 s they would round to 0 (no time at all). */
export function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0.001 || n > 3600) throw new InvalidArgumentError("must be a number of seconds from 0.001 to 3600");
  return n;
}

/**
 * node:dns takes IP addresses only (a host name fails at the first lookup,
 * and "1.2.3.4:0" aborts the process), so that is what is accepted.
 */
export function dnsServer(value: string): string {
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d{1,5}))?$/.exec(value);
  const ipOk = m ? (m[1] !== undefined ? isIPv6(m[1]) : isIPv4(m[2]!)) : false;
  const portOk = !m?.[3] || (Number(m[3]) >= 1 && Number(m[3]) <= 65535);
  if (!(ipOk && portOk) && !isIPv6(value)) {
    throw new InvalidArgumentError("must be an IP address, IP:port or [IPv6]:port, e.g. 127.0.0.1:5353 (node:dns takes no host names)");
  }
  return value;
}

export function httpUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError("must be a URL");
  }
  if (!["ws:", "wss:", "http:", "https:"].includes(url.protocol)) throw new InvalidArgumentError("must be a ws(s):// or http(s):// URL");
  return value;
}

/** A parser of whole numbers from `min` to `max`; the message names them as `what` ("a whole number", "a number of bytes"). */
function wholeNumber(min: number, max: number, what = "a whole number"): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`must be ${what} from ${min} to ${max}`);
    return n;
  };
}

export const positiveInt = wholeNumber(1, 64);

/** Bytes of one stanza: at least 16 KiB (a server's features and roster must fit), at most 1 GiB. */
export const stanzaBytes = wholeNumber(16384, 1024 ** 3, "a number of bytes");

/** Levels of nesting in one stanza: deep enough for any real stanza, shallow enough that walking it never overflows the stack. */
export const xmlDepth = wholeNumber(8, 1000, "a whole number of levels");

/** disco#items of the domain whose disco#info the probe asks for. */
export const discoItemCount = wholeNumber(1, 10000);

export const port = wholeNumber(1, 65535, "a port number");

