-- mod_xepcheck_liar: a test fixture for xepcheck (test/servers/harness.ts, variant "liar").
--
-- Advertises features that the server does NOT implement, so that xepcheck's live
-- scenarios can be shown to report "advertised but broken" instead of trusting
-- disco#info and stream features. It implements none of them: iqs in these
-- namespaces get Prosody's default error reply (service-unavailable), and the
-- top-level <enable xmlns='urn:xmpp:sm:3'/> and <active/>/<inactive xmlns='urn:xmpp:csi:0'/>
-- get whatever unmodified Prosody does with unknown top-level elements.
--
-- Load it with plugin_paths = { "<this directory>" } and modules_enabled = { …, "xepcheck_liar" }
-- on a server where carbons, blocklist, vcard_legacy, private, external_services, mam,
-- smacks and csi are NOT loaded (the harness's "minimal" set).

-- On the domain's disco#info (mod_disco collects module:add_feature of host modules).
module:add_feature("urn:xmpp:carbons:2");        -- XEP-0280 Message Carbons
module:add_feature("urn:xmpp:blocking");         -- XEP-0191 Blocking Command
module:add_feature("vcard-temp");                -- XEP-0054 vcard-temp
module:add_feature("jabber:iq:private");         -- XEP-0049 Private XML Storage
module:add_feature("urn:xmpp:extdisco:2");       -- XEP-0215 External Service Discovery

-- On the account's bare JID disco#info (as mod_mam does it).
module:hook("account-disco-info", function (event)
	local reply = event.reply or event.stanza;
	reply:tag("feature", { var = "urn:xmpp:mam:2" }):up();
	reply:tag("feature", { var = "urn:xmpp:mam:2#extended" }):up();
end);

-- Post-authentication stream features (as mod_csi and mod_smacks do it): only for
-- authenticated client sessions.
module:hook("stream-features", function (event)
	local origin = event.origin;
	if origin.type == "c2s_unbound" or origin.type == "c2s" then
		if origin.username then
			event.features:tag("csi", { xmlns = "urn:xmpp:csi:0" }):up();
			event.features:tag("sm", { xmlns = "urn:xmpp:sm:3" }):up();
		end
	end
end);

module:log("info", "xepcheck liar loaded: advertising carbons, blocking, vcard-temp, private, extdisco, mam, csi and sm without implementing them");
