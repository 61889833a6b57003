/**
 * Server state snapshots for cleanup tests: what a run of xepcheck could leave
 * behind on a test server, read with the server's own admin commands.
 *
 *   snapshotState(server, ["alice", "bob", "carol"]) -> ServerState (plain JSON)
 *   diffStates(before, after)                        -> readable list of differences
 *
 * Where each facet comes from:
 *
 * Prosody 13 (`prosodyctl --config <dir>/prosody.cfg.lua shell …`, i.e. the admin
 * socket of the running server):
 *   accounts        `user:list(host)`
 *   MUC rooms       `muc:list(muc host)` (live and persistent rooms)
 *   everything else one `>` Lua line in the admin shell (the shell's documented
 *                   escape to the running server), reading what the modules store:
 *                   pubsub service nodes + items  hosts[pubsub].modules.pubsub.service
 *                     (`pubsub:list_nodes` exists but is not available on the
 *                     pubsub component: the shell only has it for PEP hosts)
 *                   roster          storagemanager "roster" (items, groups, ask,
 *                                   pending incoming subscription requests)
 *                   blocklist       storagemanager "blocklist"
 *                   private XML     storagemanager "private" (all namespaces)
 *                   vCard           the PEP node urn:xmpp:vcard4 (mod_vcard_legacy serves
 *                                   vcard-temp from it) + the legacy "vcard" store
 *                   PEP             mod_pep get_pep_service(user): nodes, items
 *                   XEP-0402        PEP node urn:xmpp:bookmarks:1 (mod_bookmarks also
 *                                   serves private storage:bookmarks from it)
 *                   push            storagemanager "cloud_notify" (XEP-0357 registrations)
 *                   MAM prefs       storagemanager "archive_prefs"
 *
 * ejabberd 24.12 (`ejabberdctl --config-dir <dir> …` as the ejabberd user):
 *   accounts        `registered_users host`
 *   MUC rooms       `muc_online_rooms muc-host` + persistent rooms (`dump_table … muc_room`)
 *   roster          `get_roster user host` (jid, name, subscription, groups); its
 *                   `pending` column prints "undefined" in 24.12, so ask/pending come
 *                   from `dump_table … roster`
 *   everything else has no listing command (get_vcard reads one field, private_get
 *                   one known namespace; nothing lists pubsub/PEP nodes or the
 *                   blocklist), so `dump_table <file> <table>` (an admin command that
 *                   writes a Mnesia table as Erlang terms) for vcard, private_storage,
 *                   privacy (mod_blocking keeps the blocklist as the privacy list
 *                   "Blocked contacts"), pubsub_node + pubsub_item (service nodes
 *                   and PEP), push_session, archive_prefs; parsed below.
 *
 * No facet needed an XMPP query as the user: both servers have an admin path for all.
 *
 * Normalised away (changes legitimately during a run): roster versions, stored
 * timestamps (blocklist creation, push registration time, pubsub item times),
 * message archives (MAM), offline messages and counters, last activity, sessions.
 * XML is compared canonically: attributes sorted, inherited xmlns dropped,
 * whitespace-only text dropped; very long payloads (avatar data) by digest.
 * Everything else is kept, including item payloads, roster names/groups/ask and
 * pending subscription requests, empty PEP nodes, empty rooms.
 */
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { Element } from "@xmpp/xml";
import parseXml from "@xmpp/xml/lib/parse.js";
import { ejabberdctl, prosodyctl, type ServerInfo } from "./harness.js";

export interface RosterItemState {
  subscription: string;
  /** Outgoing subscription request pending ("subscribe"), or null. */
  ask: string | null;
  name: string;
  groups: string[];
  /** ejabberd only: an incoming request is pending for this item. */
  pendingIn?: boolean;
}

export interface UserState {
  /** Keyed by contact bare JID. */
  roster: Record<string, RosterItemState>;
  /** Prosody: incoming subscription requests the server keeps (roster[false].pending). */
  pendingIn: string[];
  blocklist: string[];
  /** Canonical XML, or null when the user has none. */
  vcard: string | null;
  /** node -> item id -> canonical payload XML. */
  pep: Record<string, Record<string, string>>;
  /** Private XML storage (XEP-0049), "element namespace" -> canonical XML; storage:bookmarks is in bookmarks.private. */
  privateXml: Record<string, string>;
  bookmarks: {
    /** XEP-0048 private XML <storage xmlns='storage:bookmarks'/> as stored, or null. */
    private: string | null;
    /** XEP-0402 items of urn:xmpp:bookmarks:1: item id (room JID) -> canonical XML. */
    pep: Record<string, string>;
  };
  /** XEP-0357 push registrations: "service node". */
  push: string[];
  /** XEP-0313 archiving preferences, canonical text, or null when never set. */
  mamPrefs: string | null;
}

export interface ServerState {
  kind: ServerInfo["kind"];
  domain: string;
  accounts: string[];
  mucRooms: string[];
  /** Nodes of the pubsub service: node -> item ids. */
  pubsubNodes: Record<string, string[]>;
  /**
   * "<store> <user>" for data kept for a user who is not a registered account (e.g. what
   * a removed --register account left behind). Prosody: the stores' users(); ejabberd:
   * the owners of rows in the dumped tables.
   */
  strayUserData: string[];
  users: Record<string, UserState>;
}

const NS_BOOKMARKS2 = "urn:xmpp:bookmarks:1";
const NS_VCARD4 = "urn:xmpp:vcard4";
const LONG_PAYLOAD = 1500;

export async function snapshotState(server: ServerInfo, users: string[]): Promise<ServerState> {
  return server.kind === "prosody" ? snapshotProsody(server, users) : snapshotEjabberd(server, users);
}

// ---------------------------------------------------------------------------
// XML normalisation

function canonical(el: Element, parentNs = "jabber:client"): string {
  const ns = el.attrs.xmlns ?? parentNs;
  const attrs = Object.entries(el.attrs)
    .filter(([k, v]) => !(k === "xmlns" && v === parentNs) && v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => ` ${k}="${escapeAttr(String(v))}"`)
    .join("");
  const inner = el.children
    .map((c) => (typeof c === "string" ? (c.trim() === "" ? "" : escapeText(c.trim())) : canonical(c, ns)))
    .join("");
  return inner === "" ? `<${el.name}${attrs}/>` : `<${el.name}${attrs}>${inner}</${el.name}>`;
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/"/g, "&quot;");
}
function escapeText(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function shorten(s: string): string {
  if (s.length <= LONG_PAYLOAD) return s;
  return `sha256:${createHash("sha256").update(s).digest("hex")} (${s.length} chars) ${s.slice(0, 200)}…`;
}

/** Canonical text of an XML string (Prosody's tostring(stanza)). */
export function normaliseXml(text: string): string {
  return shorten(canonical(parseXml(text)));
}

function payloadOf(item: Element): string {
  return shorten(item.getChildElements().map((c) => canonical(c, item.attrs.xmlns ?? "jabber:client")).join(""));
}

const sortUnique = (xs: Iterable<string>) => [...new Set(xs)].sort();

/**
 * Clients cannot delete a vCard (XEP-0054) or a private XML entry (XEP-0049): they
 * store an empty one, which the protocols treat as "none". So an element without any
 * text or attribute below its root counts as absent (null).
 */
function emptyAsNull(xml: string | null | undefined): string | null {
  if (!xml) return null;
  if (!xml.startsWith("<")) return xml; // a digest of a long payload
  const hasContent = (el: Element, root: boolean): boolean =>
    (!root && Object.keys(el.attrs).some((k) => k !== "xmlns")) ||
    el.children.some((c) => (typeof c === "string" ? c.trim() !== "" : hasContent(c, false)));
  return hasContent(parseXml(xml), true) ? xml : null;
}

// ---------------------------------------------------------------------------
// Prosody

function luaStr(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

async function prosodyShell(server: ServerInfo, command: string): Promise<string> {
  const r = await prosodyctl(server.dir, ["shell", command]);
  if (r.code !== 0) throw new Error(`prosodyctl shell ${command.slice(0, 80)} failed (${r.code}): ${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** Lines the shell printed before its final "OK: …" summary. */
function listed(out: string): string[] {
  return out
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !/^(OK|Result):/.test(l));
}

/** One line of Lua for the admin shell's `>` escape: everything but accounts and rooms, as JSON. */
function prosodyLua(server: ServerInfo, users: string[]): string {
  const lua = `
local sm=require"core.storagemanager"; local json=require"util.json"; local st=require"util.stanza";
local H=${luaStr(server.domain)}; local PS=${luaStr(server.services.pubsub)};
local function xs(x) if x==nil then return nil end; if st.is_stanza(x) then return tostring(x) end; return tostring(st.deserialize(x)) end;
local function keys(t) local r={}; for k in pairs(t or {}) do if type(k)=="string" then r[#r+1]=k end end; return r end;
local function items_of(svc,node) local ok,items=svc:get_items(node,true); if not ok then return {["!error"]=tostring(items)} end; local r={}; for _,id in ipairs(items) do r[#r+1]={id=id,xml=xs(items[id])} end; return r end;
local out={users={},pubsub={}};
local pep=prosody.hosts[H].modules.pep;
for _,u in ipairs({${users.map(luaStr).join(",")}}) do
  local r={roster={},pending={},private={},pep={},push={}};
  for k,v in pairs(sm.open(H,"roster"):get(u) or {}) do
    if k==false then r.pending=keys(v.pending)
    elseif type(k)=="string" then r.roster[#r.roster+1]={jid=k,subscription=v.subscription,ask=v.ask,name=v.name,groups=keys(v.groups)} end
  end;
  r.blocklist=keys(sm.open(H,"blocklist"):get(u));
  for k,v in pairs(sm.open(H,"private"):get(u) or {}) do r.private[#r.private+1]={key=k,xml=xs(v)} end;
  r.vcardLegacy=xs(sm.open(H,"vcard"):get(u));
  local svc=pep and pep.get_pep_service(u);
  if svc then local ok,nodes=svc:get_nodes(true); if ok then for name in pairs(nodes) do r.pep[#r.pep+1]={node=name,items=items_of(svc,name)} end end end;
  for id,v in pairs(sm.open(H,"cloud_notify"):get(u) or {}) do if type(v)=="table" then r.push[#r.push+1]=tostring(v.jid).." "..tostring(v.node) end end;
  local mp=sm.open(H,"archive_prefs"):get(u);
  if mp then local p={default=tostring(mp[false]),always={},never={}}; for k,v in pairs(mp) do if type(k)=="string" then if v then p.always[#p.always+1]=k else p.never[#p.never+1]=k end end end; r.mamPrefs=p end;
  out.users[u]=r;
end;
local ps=prosody.hosts[PS] and prosody.hosts[PS].modules.pubsub;
if ps and ps.service then local ok,nodes=ps.service:get_nodes(true); if ok then for name in pairs(nodes) do out.pubsub[#out.pubsub+1]={node=name,items=items_of(ps.service,name)} end end end;
local um=require"core.usermanager"; out.stray={};
for _,spec in ipairs({{"roster","keyval"},{"vcard","keyval"},{"private","keyval"},{"blocklist","keyval"},{"pep","keyval"},{"cloud_notify","keyval"},{"archive_prefs","keyval"},{"offline","archive"},{"archive","archive"}}) do
  pcall(function() local s=sm.open(H,spec[1],spec[2]); if s and s.users then for su in s:users() do if not um.user_exists(su,H) then out.stray[#out.stray+1]=spec[1].." "..su end end end end);
end;
return json.encode(out)`;
  return ">" + lua.replace(/\n\s*/g, " ").trim();
}

/** util.json encodes an empty Lua table as {}; arrays come as arrays. */
function arr<T>(x: unknown): T[] {
  if (Array.isArray(x)) return x as T[];
  if (x && typeof x === "object") return Object.values(x) as T[];
  return [];
}

interface LuaItems {
  id: string;
  xml?: string;
}
type LuaItemList = LuaItems[] | { "!error": string } | Record<string, never>;

function luaItems(items: LuaItemList): Record<string, string> {
  if (items && !Array.isArray(items) && "!error" in items) return { [`(items not readable: ${String(items["!error"])})`]: "" };
  const out: Record<string, string> = {};
  for (const it of arr<LuaItems>(items)) {
    out[it.id] = it.xml ? payloadOf(parseXml(it.xml)) : "";
  }
  return out;
}

async function snapshotProsody(server: ServerInfo, users: string[]): Promise<ServerState> {
  const [accountsOut, roomsOut, luaOut] = await Promise.all([
    prosodyShell(server, `user:list(${luaStr(server.domain)})`),
    prosodyShell(server, `muc:list(${luaStr(server.services.muc)})`),
    prosodyShell(server, prosodyLua(server, users)),
  ]);
  const m = /^Result: (\{.*\})\s*$/ms.exec(luaOut);
  if (!m) throw new Error(`prosodyctl shell: unexpected answer to the state query: ${luaOut.slice(0, 500)}`);
  const data = JSON.parse(m[1]!) as {
    users: Record<string, {
      roster: unknown; pending: unknown; blocklist: unknown; private: unknown; vcardLegacy?: string;
      pep: unknown; push: unknown; mamPrefs?: { default: string; always: unknown; never: unknown };
    }>;
    pubsub: unknown;
    stray: unknown;
  };

  const state: ServerState = {
    kind: server.kind,
    domain: server.domain,
    accounts: sortUnique(listed(accountsOut)),
    mucRooms: sortUnique(listed(roomsOut)),
    pubsubNodes: {},
    strayUserData: sortUnique(arr<string>(data.stray)),
    users: {},
  };
  for (const n of arr<{ node: string; items: LuaItemList }>(data.pubsub)) {
    state.pubsubNodes[n.node] = Object.keys(luaItems(n.items)).sort();
  }
  for (const u of users) {
    const d = data.users[u];
    if (!d) throw new Error(`prosodyctl shell: no state for ${u}`);
    const roster: Record<string, RosterItemState> = {};
    for (const it of arr<{ jid: string; subscription?: string; ask?: string; name?: string; groups: unknown }>(d.roster)) {
      roster[it.jid] = { subscription: it.subscription ?? "none", ask: it.ask ?? null, name: it.name ?? "", groups: sortUnique(arr<string>(it.groups)) };
    }
    const pep: Record<string, Record<string, string>> = {};
    for (const n of arr<{ node: string; items: LuaItemList }>(d.pep)) pep[n.node] = luaItems(n.items);
    const privateXml: Record<string, string> = {};
    let privateBookmarks: string | null = null;
    for (const p of arr<{ key: string; xml?: string }>(d.private)) {
      const xml = emptyAsNull(p.xml ? normaliseXml(p.xml) : null);
      if (xml === null) continue;
      // mod_private keys are "<element>:<namespace>"
      const i = p.key.indexOf(":");
      const key = i > 0 ? `${p.key.slice(0, i)} ${p.key.slice(i + 1)}` : p.key;
      if (key === "storage storage:bookmarks") privateBookmarks = xml;
      else privateXml[key] = xml;
    }
    const vcardParts = [emptyAsNull(pep[NS_VCARD4]?.current), emptyAsNull(d.vcardLegacy ? normaliseXml(d.vcardLegacy) : null)].filter(
      (x): x is string => !!x,
    );
    state.users[u] = {
      roster,
      pendingIn: sortUnique(arr<string>(d.pending)),
      blocklist: sortUnique(arr<string>(d.blocklist)),
      vcard: vcardParts.length ? vcardParts.join("\n") : null,
      pep,
      privateXml,
      bookmarks: { private: privateBookmarks, pep: { ...(pep[NS_BOOKMARKS2] ?? {}) } },
      push: sortUnique(arr<string>(d.push)),
      mamPrefs: d.mamPrefs
        ? `default=${d.mamPrefs.default} always=[${sortUnique(arr<string>(d.mamPrefs.always)).join(",")}] never=[${sortUnique(arr<string>(d.mamPrefs.never)).join(",")}]`
        : null,
    };
  }
  return state;
}

// ---------------------------------------------------------------------------
// ejabberd

async function ejabberdOk(server: ServerInfo, args: string[]): Promise<string> {
  const r = await ejabberdctl(server.dir, args);
  if (r.code !== 0) throw new Error(`ejabberdctl ${args.join(" ")} failed (${r.code}): ${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** `ejabberdctl dump_table` into a file in the server dir (writable by the ejabberd user), parsed. */
async function dumpTable(server: ServerInfo, table: string): Promise<ErlTuple[]> {
  const file = path.join(server.dir, `state-dump-${randomBytes(6).toString("hex")}-${table}.txt`);
  try {
    await ejabberdOk(server, ["dump_table", file, table]);
    const terms = parseErlangTerms(await fs.readFile(file, "utf8"));
    return terms.filter((t): t is ErlTuple => t instanceof ErlTuple && atomIs(t.items[0], table));
  } finally {
    await fs.rm(file, { force: true });
  }
}

function ljid(t: ErlTerm): string {
  // {User, Server, Resource} (binaries); user/resource may be empty
  if (!(t instanceof ErlTuple)) return String(t);
  const [u = "", s = "", r = ""] = t.items.map((x) => (typeof x === "string" ? x : ""));
  return `${u ? `${u}@` : ""}${s}${r ? `/${r}` : ""}`;
}

function xmlelToElement(t: ErlTerm): Element | string | undefined {
  if (!(t instanceof ErlTuple)) return undefined;
  const [tag, a, b, c] = t.items;
  if (atomIs(tag, "xmlcdata")) return typeof a === "string" ? a : "";
  if (!atomIs(tag, "xmlel") || typeof a !== "string") return undefined;
  const attrs: Record<string, string> = {};
  for (const kv of (Array.isArray(b) ? b : []) as ErlTerm[]) {
    if (kv instanceof ErlTuple && typeof kv.items[0] === "string") attrs[kv.items[0]] = String(kv.items[1] ?? "");
  }
  const el = new Element(a, attrs);
  for (const ch of (Array.isArray(c) ? c : []) as ErlTerm[]) {
    const x = xmlelToElement(ch);
    if (x !== undefined) el.append(x);
  }
  return el;
}

function xmlelText(t: ErlTerm, parentNs = "jabber:client"): string {
  const el = xmlelToElement(t);
  return el instanceof Element ? canonical(el, parentNs) : "";
}

async function snapshotEjabberd(server: ServerInfo, users: string[]): Promise<ServerState> {
  const host = server.domain;
  const [accountsOut, roomsOut, rosterRows, vcards, privates, privacy, nodes, items, pushes, prefs, rooms] = await Promise.all([
    ejabberdOk(server, ["registered_users", host]),
    ejabberdOk(server, ["muc_online_rooms", server.services.muc]),
    dumpTable(server, "roster"),
    dumpTable(server, "vcard"),
    dumpTable(server, "private_storage"),
    dumpTable(server, "privacy"),
    dumpTable(server, "pubsub_node"),
    dumpTable(server, "pubsub_item"),
    dumpTable(server, "push_session"),
    dumpTable(server, "archive_prefs"),
    dumpTable(server, "muc_room"),
  ]);
  const rosters = await Promise.all(users.map((u) => ejabberdOk(server, ["get_roster", u, host])));

  const persistentRooms = rooms.map((r) => {
    const nh = r.items[1];
    return nh instanceof ErlTuple ? `${String(nh.items[0])}@${String(nh.items[1])}` : String(nh);
  }).filter((j) => j.endsWith(`@${server.services.muc}`));

  // pubsub_item: {pubsub_item, {ItemId, Nidx}, Nidx, Creation, Modification, Payload}
  const itemsByNidx = new Map<string, Record<string, string>>();
  for (const it of items) {
    const key = it.items[1];
    const nidx = String(it.items[2]);
    const id = key instanceof ErlTuple ? String(key.items[0]) : String(key);
    const payload = (Array.isArray(it.items[5]) ? it.items[5] : []) as ErlTerm[];
    const xml = shorten(payload.map((p) => xmlelText(p, "http://jabber.org/protocol/pubsub")).join(""));
    const m = itemsByNidx.get(nidx) ?? {};
    m[id] = xml;
    itemsByNidx.set(nidx, m);
  }
  // pubsub_node: {pubsub_node, {Host, Node}, Nidx, Parents, Type, Owners, Options}
  const pubsubNodes: Record<string, string[]> = {};
  const pepNodes = new Map<string, Record<string, Record<string, string>>>();
  for (const n of nodes) {
    const nodeId = n.items[1];
    if (!(nodeId instanceof ErlTuple)) continue;
    const [h, name] = nodeId.items;
    const its = itemsByNidx.get(String(n.items[2])) ?? {};
    if (typeof h === "string") {
      if (h === server.services.pubsub) pubsubNodes[String(name)] = Object.keys(its).sort();
    } else {
      const owner = ljid(h);
      const m = pepNodes.get(owner) ?? {};
      m[String(name)] = its;
      pepNodes.set(owner, m);
    }
  }

  const byUs = (rows: ErlTuple[], u: string, keyIndex = 1) =>
    rows.filter((r) => {
      const k = r.items[keyIndex];
      return k instanceof ErlTuple && k.items[0] === u && k.items[1] === host;
    });

  const state: ServerState = {
    kind: server.kind,
    domain: host,
    accounts: sortUnique(listed(accountsOut).map((u) => (u.includes("@") ? u : `${u}@${host}`))),
    mucRooms: sortUnique([...listed(roomsOut), ...persistentRooms]),
    pubsubNodes,
    strayUserData: [],
    users: {},
  };
  const accounts = new Set(state.accounts);
  const stray = new Set<string>();
  const usKey = (t: ErlTerm | undefined) => (t instanceof ErlTuple ? `${String(t.items[0])}@${String(t.items[1])}` : "");
  const strays: [string, ErlTuple[], (r: ErlTuple) => string][] = [
    ["roster", rosterRows, (r) => usKey(r.items[2])],
    ["vcard", vcards, (r) => usKey(r.items[1])],
    ["private_storage", privates, (r) => usKey(r.items[1])],
    ["privacy", privacy, (r) => usKey(r.items[1])],
    ["push_session", pushes, (r) => usKey(r.items[1])],
    ["archive_prefs", prefs, (r) => usKey(r.items[1])],
  ];
  for (const [table, rows, owner] of strays) {
    for (const r of rows) {
      const o = owner(r);
      if (o && !accounts.has(o)) stray.add(`${table} ${o}`);
    }
  }
  for (const owner of pepNodes.keys()) if (!accounts.has(owner)) stray.add(`pep ${owner}`);
  state.strayUserData = sortUnique(stray);

  users.forEach((u, i) => {
    // get_roster: jid \t name \t subscription \t pending \t groups(","-joined)
    const roster: Record<string, RosterItemState> = {};
    for (const line of (rosters[i] ?? "").split("\n")) {
      if (line.trim() === "") continue;
      const [jid = "", name = "", subscription = "none", , groups = ""] = line.split("\t");
      roster[jid] = { subscription, ask: null, name, groups: sortUnique(groups.split(",").filter(Boolean)) };
    }
    // roster table: {roster, USJ, US, JID, Name, Subscription, Ask, Groups, AskMessage, Xs}
    for (const r of byUs(rosterRows, u, 2)) {
      const jid = ljid(r.items[3]!);
      const ask = atomName(r.items[6]) ?? "none";
      const item = (roster[jid] ??= {
        subscription: atomName(r.items[5]) ?? "none",
        ask: null,
        name: String(r.items[4] ?? ""),
        groups: sortUnique(((Array.isArray(r.items[7]) ? r.items[7] : []) as ErlTerm[]).map(String)),
      });
      item.ask = ask === "out" || ask === "both" ? "subscribe" : null;
      item.pendingIn = ask === "in" || ask === "both";
    }

    // privacy: {privacy, US, Default, Lists=[{Name, [listitem]}]}
    // listitem: {listitem, Type, Value, Action, Order, MatchAll, MatchIq, MatchMessage, MatchPresenceIn, MatchPresenceOut}
    const blocklist: string[] = [];
    for (const p of byUs(privacy, u)) {
      for (const l of (Array.isArray(p.items[3]) ? p.items[3] : []) as ErlTerm[]) {
        if (!(l instanceof ErlTuple) || l.items[0] !== "Blocked contacts") continue;
        for (const li of (Array.isArray(l.items[1]) ? l.items[1] : []) as ErlTerm[]) {
          if (li instanceof ErlTuple && atomIs(li.items[1], "jid")) blocklist.push(ljid(li.items[2]!));
        }
      }
    }

    const vc = byUs(vcards, u)[0];
    const privateXml: Record<string, string> = {};
    let privateBookmarks: string | null = null;
    // private_storage: {private_storage, {U, S, NS}, Xml}
    for (const p of byUs(privates, u)) {
      const ns = String((p.items[1] as ErlTuple).items[2]);
      const el = xmlelToElement(p.items[2]!);
      const name = el instanceof Element ? el.name : "?";
      const xml = emptyAsNull(shorten(xmlelText(p.items[2]!)));
      if (xml === null) continue;
      if (name === "storage" && ns === "storage:bookmarks") privateBookmarks = xml;
      else privateXml[`${name} ${ns}`] = xml;
    }
    const pep = pepNodes.get(`${u}@${host}`) ?? {};
    // push_session: {push_session, US, Timestamp, Service(ljid), Node, XData}
    const push = byUs(pushes, u).map((p) => `${ljid(p.items[3]!)} ${String(p.items[4])}`);
    // archive_prefs: {archive_prefs, US, Default, Always, Never}
    const pr = byUs(prefs, u)[0];
    const jids = (x: ErlTerm | undefined) => sortUnique(((Array.isArray(x) ? x : []) as ErlTerm[]).map(ljid)).join(",");
    state.users[u] = {
      roster,
      pendingIn: [],
      blocklist: sortUnique(blocklist),
      vcard: vc ? emptyAsNull(shorten(xmlelText(vc.items[2]!))) : null,
      pep,
      privateXml,
      bookmarks: { private: privateBookmarks, pep: { ...(pep[NS_BOOKMARKS2] ?? {}) } },
      push: sortUnique(push),
      mamPrefs: pr ? `default=${atomName(pr.items[2]) ?? String(pr.items[2])} always=[${jids(pr.items[3])}] never=[${jids(pr.items[4])}]` : null,
    };
  });
  return state;
}

// ---------------------------------------------------------------------------
// Erlang terms as written by io_lib ~p (ejabberdctl dump_table)

export class ErlAtom {
  constructor(readonly name: string) {}
  toString(): string {
    return this.name;
  }
}
export class ErlTuple {
  constructor(readonly items: ErlTerm[]) {}
}
/** Binaries and printable char lists become strings; pids, refs, funs their text. */
export type ErlTerm = string | number | ErlAtom | ErlTuple | ErlTerm[] | Map<ErlTerm, ErlTerm>;

function atomIs(t: ErlTerm | undefined, name: string): boolean {
  return t instanceof ErlAtom && t.name === name;
}
function atomName(t: ErlTerm | undefined): string | undefined {
  return t instanceof ErlAtom ? t.name : undefined;
}

/** Parses a text of `Term.` sentences. */
export function parseErlangTerms(text: string): ErlTerm[] {
  let i = 0;
  const n = text.length;
  const fail = (what: string): never => {
    throw new Error(`Erlang term parse error at ${i}: ${what}: …${text.slice(Math.max(0, i - 40), i + 40)}…`);
  };
  const ws = () => {
    for (;;) {
      while (i < n && /\s/.test(text[i]!)) i++;
      if (text[i] === "%") {
        while (i < n && text[i] !== "\n") i++;
        continue;
      }
      return;
    }
  };
  const expect = (s: string) => {
    ws();
    if (!text.startsWith(s, i)) fail(`expected ${s}`);
    i += s.length;
  };
  /** A quoted "…" or '…' literal; returns char codes. */
  const quoted = (q: string): number[] => {
    i++; // opening quote
    const codes: number[] = [];
    while (i < n && text[i] !== q) {
      const c = text[i]!;
      if (c !== "\\") {
        codes.push(text.codePointAt(i)!);
        i += c.length === 1 && text.codePointAt(i)! > 0xffff ? 2 : 1;
        continue;
      }
      i++;
      const e = text[i]!;
      if (/[0-7]/.test(e)) {
        let o = "";
        while (o.length < 3 && /[0-7]/.test(text[i] ?? "")) o += text[i++];
        codes.push(parseInt(o, 8));
        continue;
      }
      if (e === "x") {
        i++;
        if (text[i] === "{") {
          const end = text.indexOf("}", i);
          codes.push(parseInt(text.slice(i + 1, end), 16));
          i = end + 1;
        } else {
          codes.push(parseInt(text.slice(i, i + 2), 16));
          i += 2;
        }
        continue;
      }
      if (e === "^") {
        codes.push(text.charCodeAt(i + 1) & 31);
        i += 2;
        continue;
      }
      const simple: Record<string, number> = { n: 10, t: 9, r: 13, b: 8, f: 12, v: 11, e: 27, s: 32, d: 127 };
      codes.push(simple[e] ?? text.charCodeAt(i));
      i++;
    }
    if (text[i] !== q) fail("unterminated quote");
    i++;
    return codes;
  };
  const seq = (close: string): ErlTerm[] => {
    const out: ErlTerm[] = [];
    ws();
    if (text[i] === close) {
      i++;
      return out;
    }
    for (;;) {
      out.push(term());
      ws();
      if (text[i] === ",") {
        i++;
        continue;
      }
      if (text[i] === "|") {
        // improper list tail: keep it as a last element
        i++;
        out.push(term());
        ws();
      }
      if (text[i] === close) {
        i++;
        return out;
      }
      fail(`expected , or ${close}`);
    }
  };
  const term = (): ErlTerm => {
    ws();
    const c = text[i];
    if (c === undefined) return fail("unexpected end");
    if (c === "{") {
      i++;
      return new ErlTuple(seq("}"));
    }
    if (c === "[") {
      i++;
      return seq("]");
    }
    if (text.startsWith("<<", i)) {
      i += 2;
      const bytes: number[] = [];
      ws();
      if (text.startsWith(">>", i)) {
        i += 2;
        return "";
      }
      for (;;) {
        ws();
        if (text[i] === '"') {
          const codes = quoted('"');
          if (text.startsWith("/utf8", i)) {
            i += 5;
            bytes.push(...Buffer.from(String.fromCodePoint(...codes), "utf8"));
          } else bytes.push(...codes.map((x) => x & 255));
        } else {
          const m = /^-?\d+/.exec(text.slice(i, i + 20));
          if (!m) fail("bad binary segment");
          i += m![0].length;
          bytes.push(Number(m![0]) & 255);
          if (text[i] === ":") fail("bit-size segments unsupported");
        }
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text.startsWith(">>", i)) {
          i += 2;
          return Buffer.from(bytes).toString("utf8");
        }
        fail("expected , or >> in binary");
      }
    }
    if (c === '"') {
      let s = String.fromCodePoint(...quoted('"'));
      // adjacent string literals concatenate
      for (;;) {
        const save = i;
        ws();
        if (text[i] === '"') s += String.fromCodePoint(...quoted('"'));
        else {
          i = save;
          return s;
        }
      }
    }
    if (c === "'") return new ErlAtom(String.fromCodePoint(...quoted("'")));
    if (text.startsWith("#{", i)) {
      i += 2;
      const m = new Map<ErlTerm, ErlTerm>();
      ws();
      if (text[i] === "}") {
        i++;
        return m;
      }
      for (;;) {
        const k = term();
        expect("=>");
        m.set(k, term());
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return m;
        }
        fail("expected , or } in map");
      }
    }
    if (c === "#" || c === "<") {
      // #Ref<0.1.2.3>, #Fun<…>, #Port<0.5>, <0.123.0>
      const start = i;
      let depth = 0;
      while (i < n) {
        if (text[i] === "<") depth++;
        else if (text[i] === ">") {
          depth--;
          if (depth === 0) {
            i++;
            break;
          }
        }
        i++;
      }
      return text.slice(start, i);
    }
    if (c === "$") {
      // $a character literal
      i++;
      if (text[i] === "\\") {
        i++;
        const e = text[i++]!;
        const simple: Record<string, number> = { n: 10, t: 9, r: 13, s: 32 };
        return simple[e] ?? e.charCodeAt(0);
      }
      return text.codePointAt(i++)!;
    }
    const num = /^-?\d+(#[0-9a-zA-Z]+|\.\d+(e[+-]?\d+)?)?/.exec(text.slice(i, i + 64));
    if (num) {
      i += num[0].length;
      if (num[1]?.startsWith("#")) return parseInt(num[1].slice(1), Number(num[0].split("#")[0]));
      return Number(num[0]);
    }
    const atom = /^[a-z][a-zA-Z0-9_@]*/.exec(text.slice(i, i + 256));
    if (atom) {
      i += atom[0].length;
      return new ErlAtom(atom[0]);
    }
    return fail("unexpected character");
  };

  const out: ErlTerm[] = [];
  for (;;) {
    ws();
    if (i >= n) return out;
    out.push(term());
    ws();
    if (text[i] !== ".") fail("expected . after a term");
    i++;
  }
}

// ---------------------------------------------------------------------------
// comparing

function flatten(x: unknown, prefix: string, out: Map<string, string>): void {
  if (Array.isArray(x)) {
    if (x.every((v) => typeof v !== "object" || v === null)) {
      if (x.length === 0) out.set(prefix, "[]");
      for (const v of x) out.set(`${prefix}[${String(v)}]`, "present");
      return;
    }
    x.forEach((v, i) => flatten(v, `${prefix}[${i}]`, out));
    return;
  }
  if (x && typeof x === "object") {
    const entries = Object.entries(x as Record<string, unknown>);
    if (entries.length === 0) out.set(prefix, "{}");
    for (const [k, v] of entries) flatten(v, prefix ? `${prefix}.${k.includes(".") || k.includes(" ") ? JSON.stringify(k) : k}` : k, out);
    return;
  }
  out.set(prefix, JSON.stringify(x));
}

/**
 * The differences between two snapshots, one line each ("- path: before", "+ path: after",
 * "~ path: before -> after"); empty when equal.
 */
export function diffStates(before: ServerState, after: ServerState): string[] {
  const a = new Map<string, string>();
  const b = new Map<string, string>();
  flatten(before, "", a);
  flatten(after, "", b);
  const lines: string[] = [];
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  for (const k of keys) {
    const va = a.get(k);
    const vb = b.get(k);
    if (va === vb) continue;
    // An "{}"/"[]" marker for a container that is empty on one side only is implied
    // by the entries listed under it on the other side; alone (a new empty node) it counts.
    const under = (m: Map<string, string>) => [...m.keys()].some((x) => x.startsWith(`${k}.`) || x.startsWith(`${k}[`));
    if (va === undefined && (vb === "{}" || vb === "[]") && under(a)) continue;
    if (vb === undefined && (va === "{}" || va === "[]") && under(b)) continue;
    if (va === undefined) lines.push(`+ ${k}: ${vb}`);
    else if (vb === undefined) lines.push(`- ${k}: ${va}`);
    else lines.push(`~ ${k}: ${va} -> ${vb}`);
  }
  return lines;
}
