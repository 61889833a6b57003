/**
 * Manual/demo entry point for the test servers.
 *
 *   node dist/test/servers/cli.js start <prosody|ejabberd> [--dir D] [--base-port N]
 *
 * Starts the server, prints the StartedServer (without stop) as one line of JSON on
 * stdout, and keeps running until SIGINT/SIGTERM, then stops the server and exits 0.
 * Progress and errors go to stderr.
 */
import { serverInfo, startServer, type ServerKind, type StartedServer } from "./harness.js";

function usage(): never {
  process.stderr.write("usage: cli.js start <prosody|ejabberd> [--dir DIR] [--base-port N]\n");
  process.exit(2);
}

async function main(argv: string[]): Promise<void> {
  const [command, kind, ...rest] = argv;
  if (command !== "start" || (kind !== "prosody" && kind !== "ejabberd")) usage();
  let dir: string | undefined;
  let basePort: number | undefined;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === "--dir" && rest[i + 1]) dir = rest[++i];
    else if (a === "--base-port" && rest[i + 1]) basePort = Number(rest[++i]);
    else usage();
  }
  if (basePort !== undefined && !(Number.isInteger(basePort) && basePort > 0 && basePort < 65400)) usage();

  let server: StartedServer | undefined;
  let stopping = false;
  const shutdown = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`${sig}: stopping ${kind}…\n`);
    try {
      await server?.stop();
      process.exit(0);
    } catch (e) {
      process.stderr.write(`stop failed: ${(e as Error).message}\n`);
      process.exit(1);
    }
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));

  process.stderr.write(`starting ${kind}…\n`);
  server = await startServer(kind as ServerKind, { dir, basePort });
  if (stopping) {
    await server.stop();
    process.exit(0);
  }
  process.stdout.write(JSON.stringify(serverInfo(server)) + "\n");
  process.stderr.write(`${kind} ready in ${server.startupMs} ms (pid ${server.pid}); Ctrl-C to stop\n`);
  // Keep the event loop alive until a signal arrives.
  setInterval(() => {}, 1 << 30);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
