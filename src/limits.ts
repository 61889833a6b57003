/**
 * What xepcheck accepts from a server unless told otherwise. Here, apart
 * from the modules that enforce them, so that the command line can show
 * them without loading those modules.
 */

/**
 * The largest top-level element accepted from a server, in bytes, unless
 * --max-stanza-size says otherwise. 1 MiB is four times what servers let
 * their own clients send (Prosody's c2s_stanza_size_limit and ejabberd's
 * shipped c2s max_stanza_size are both 256 KiB), so a legitimate stanza
 * relayed to us fits, while a hostile server cannot make us buffer more.
 */
export const DEFAULT_MAX_STANZA_BYTES = 1024 * 1024;

/** Levels of elements in a stanza (--max-xml-depth): real stanzas reach about 15. */
export const DEFAULT_MAX_XML_DEPTH = 100;

/** disco#items whose disco#info the probe asks for (--max-disco-items): more than any real server lists. */
export const DEFAULT_MAX_DISCO_ITEMS = 200;
