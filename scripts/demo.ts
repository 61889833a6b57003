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
  const account = server.accounts[0]!;
  const args = ["run", account.jid, "--host", server.host, "--port", String(server.ports.c2s), "--ca", server.caFile, "--json", "demo-report.json"];
  process.stdout.write(`\n$ XEPCHECK_PASSWORD=… xepcheck ${args.join(" ")}\n\n`);
  code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: "inherit", env: { ...process.env, XEPCHECK_PASSWORD: account.password } });
    child.on("close", (c) => resolve(c ?? 1));
  });
  process.stdout.write(`\nThe JSON report is in demo-report.json.\n`);
} finally {
  await server.stop();
}
process.exitCode = code;
