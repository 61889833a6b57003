/**
 * XEP-0157: Contact Addresses for XMPP Services
 * https://xmpp.org/extensions/xep-0157.html
 */
import { FORM_SERVERINFO, findForm } from "../probe/probe.js";
import { defineCheck } from "./types.js";

export default [
  defineCheck({
    id: "xep0157.addresses",
    spec: { doc: "XEP-0157", version: "1.1.1", section: "3", url: "https://xmpp.org/extensions/xep-0157.html#xmpp" },
    level: "MUST",
    requirement:
      "This information MUST be scoped using a FORM_TYPE of \"http://jabber.org/network/serverinfo\" (as already specified in Service Discovery Extensions (XEP-0128)) and data form fields registered for this purpose as defined in the XMPP Registrar Considerations section of this document.",
    title: "Contact addresses are published",
    needs: ["account"],
    run: (ctx) => {
      const form = findForm(ctx.probe.domain.forms, FORM_SERVERINFO);
      const rows = Object.entries(ctx.probe.contactAddresses).flatMap(([field, values]) => values.map((v) => [field, v]));
      if (!form) {
        return { verdict: "na", advertised: false, works: null, summary: `no ${FORM_SERVERINFO} form in the domain's disco#info`, evidence: [] };
      }
      return {
        verdict: rows.length ? "pass" : "warn",
        advertised: true,
        works: null,
        summary: rows.length ? `${rows.length} contact address(es) published` : "the serverinfo form is there but lists no address",
        evidence: [{ type: "table", title: "Contact addresses", columns: ["field", "address"], rows }],
      };
    },
  }),
];
