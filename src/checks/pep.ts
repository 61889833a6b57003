/**
 * What PEP-based specs (XEP-0163, 0223, 0384, 0402) look for on the account:
 * the pubsub/pep identity and pubsub#… features.
 */
import type { Found } from "./advertisement.js";
import type { CheckContext } from "./types.js";

export const NS_PUBSUB = "http://jabber.org/protocol/pubsub";

export function pepIdentity(ctx: CheckContext): Found {
  const { account } = ctx.probe;
  const has = account.identities.some((i) => i.category === "pubsub" && i.type === "pep");
  return {
    looked: "identity pubsub/pep",
    foundAt: has ? [`disco#info of ${account.jid}`] : [],
    searched: [`disco#info of ${account.jid}${account.error ? ` (error: ${account.error})` : ""}`],
    ...unanswered(ctx),
  };
}

/** The account's disco#info, when it got no answer: nothing is known of what it lists. */
function unanswered(ctx: CheckContext): Pick<Found, "unanswered"> {
  const { account } = ctx.probe;
  return account.errorKind === "no-answer" ? { unanswered: [`disco#info of ${account.jid} (${account.error})`] } : {};
}

/** A pubsub#… feature on the account, e.g. pepFeature(ctx, "publish-options"). */
export function pepFeature(ctx: CheckContext, name: string): Found {
  const { account } = ctx.probe;
  const feature = `${NS_PUBSUB}#${name}`;
  return {
    looked: feature,
    foundAt: account.features.includes(feature) ? [`disco#info of ${account.jid}`] : [],
    searched: [`disco#info of ${account.jid}`],
    ...unanswered(ctx),
  };
}

export const allFound = (...found: Found[]): boolean => found.every((f) => f.foundAt.length > 0);
