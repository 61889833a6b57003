/**
 * XEP-0077 In-Band Registration of throw-away accounts, and their removal.
 * https://xmpp.org/extensions/xep-0077.html
 * (xmpp.js has no in-band registration, so it is built here.)
 */
import { randomBytes } from "node:crypto";
import { xml } from "@xmpp/xml";
import { SessionError, StanzaError } from "./errors.js";
import { connectSecure, type ConnectOptions, type Credentials } from "./login.js";
import type { XmppStream } from "./stream.js";

export const NS_REGISTER = "jabber:iq:register";

export function throwAwayCredentials(): Credentials {
  return {
    username: `xepcheck-${randomBytes(5).toString("hex")}`,
    password: randomBytes(18).toString("base64url"),
  };
}

/** Registers `credentials` on a fresh TLS stream before authentication (XEP-0077 §3.1). */
export async function registerAccount(options: ConnectOptions, credentials: Credentials): Promise<void> {
  const stream = await connectSecure(options);
  try {
    let form;
    try {
      form = await stream.iq(xml("iq", { type: "get" }, xml("query", { xmlns: NS_REGISTER })), "register");
    } catch (err) {
      throw registrationError(err, options.domain);
    }
    const fields = form.getChild("query", NS_REGISTER);
    if (fields?.getChild("x", "jabber:x:data") && !fields.getChild("username")) {
      throw new SessionError(
        "protocol",
        "register",
        `${options.domain} asks for a registration form (e.g. a CAPTCHA) that xepcheck cannot fill in`,
      );
    }
    try {
      await stream.iq(
        xml(
          "iq",
          { type: "set" },
          xml(
            "query",
            { xmlns: NS_REGISTER },
            xml("username", {}, credentials.username),
            xml("password", {}, credentials.password),
          ),
        ),
        "register",
      );
    } catch (err) {
      throw registrationError(err, options.domain);
    }
  } finally {
    await stream.close();
  }
}

/** Removes the logged-in account (XEP-0077 §3.2). The server may close the stream right after. */
export async function unregisterAccount(stream: XmppStream): Promise<void> {
  try {
    await stream.iq(xml("iq", { type: "set" }, xml("query", { xmlns: NS_REGISTER }, xml("remove"))), "register");
  } catch (err) {
    // RFC-compliant servers may close the stream instead of answering.
    if (err instanceof SessionError && err.kind === "network") return;
    throw err;
  }
}

function registrationError(err: unknown, domain: string): unknown {
  if (err instanceof StanzaError) {
    return new SessionError(
      "protocol",
      "register",
      `${domain} refused in-band registration: ${err.condition}${err.text ? ` (${err.text})` : ""}`,
      err.condition,
    );
  }
  return err;
}
