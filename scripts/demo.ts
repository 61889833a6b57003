/**
 * The demo: starts a throw-away Prosody on loopback, runs xepcheck against
 * it as a user would, and stops the server again.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startServer } from "../test/servers/harness.js";

const kind = process.argv[2] === "ejabberd" ? "ejabberd" : "prosody";
const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "src", "cli", "main.js");

const server = await startServer(kind);
let code = 1;
try {
  const [account, peer] = server.accounts;
  // Everything the server offers gets tested: a second account for two-user scenarios,
  // the direct TLS port, and the external component it accepts (XEP-0114).
  const args = [
    "run", account!.jid, "--peer", peer!.jid,
    "--host", server.host, "--port", String(server.ports.c2s), "--ca", server.caFile,
    "--direct-tls-port", String(server.ports.directTls),
    "--component", `${server.component.domain}:${server.ports.component}`,
    "--json", "demo-report.json", "--html", "demo-report.html",
  ];
  process.stdout.write(`\n$ XEPCHECK_PASSWORD=… XEPCHECK_PEER_PASSWORD=… XEPCHECK_COMPONENT_SECRET=… xepcheck ${args.join(" ")}\n\n`);
  code = await new Promise<number>((resolve) => {
    const env = { ...process.env, XEPCHECK_PASSWORD: account!.password, XEPCHECK_PEER_PASSWORD: peer!.password, XEPCHECK_COMPONENT_SECRET: server.component.secret };
    const child = spawn(process.execPath, [cli, ...args], { stdio: "inherit", env });
    child.on("close", (c) => resolve(c ?? 1));
  });
  process.stdout.write(`\nThe reports are in demo-report.json and demo-report.html (open it in a browser).\n`);
} finally {
  await server.stop();
}
process.exitCode = code;
