#!/usr/bin/env node
// A reader that goes away (`xepcheck … | head`) is not an error of ours: stop quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
  // Answered before the command line parser and the commands are even loaded (as commander would answer it).
  const { TOOL_VERSION } = await import("../version.js");
  process.stdout.write(`${TOOL_VERSION}\n`);
} else {
  const { main } = await import("./program.js");
  process.exitCode = await main(process.argv);
}
