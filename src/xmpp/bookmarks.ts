/**
 * Bookmarks: XEP-0402 in PEP, XEP-0048 in private XML, and the XEP-0402
 * compatibility feature.
 * https://xmpp.org/extensions/xep-0402.html
 */

export const NS_BOOKMARKS = "urn:xmpp:bookmarks:1";
export const FEATURE_COMPAT = "urn:xmpp:bookmarks:1#compat";
export const NS_LEGACY_BOOKMARKS = "storage:bookmarks";

/** The publish-options XEP-0402 §3.3 publishes bookmarks with. */
export const BOOKMARK_OPTIONS = {
  persist_items: "true",
  max_items: "max",
  send_last_published_item: "never",
  access_model: "whitelist",
};
