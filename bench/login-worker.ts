/**
 * Runs in a child process with NODE_EXTRA_CA_CERTS set (xmpp.js's STARTTLS
 * takes no CA option): logs in N times with xmpp.js's built-in SCRAM-SHA-1
 * and N times with xepcheck's, alternating, and prints the timings as JSON.
 */
import { client } from "@xmpp/client";
import { login } from "../src/session/login.js";

interface Args {
  domain: string;
  port: number;
  username: string;
  password: string;
  rounds: number;
}

const args: Args = JSON.parse(process.argv[2]!);

async function xmppjsLogin(): Promise<number> {
  const xmpp = client({ service: `xmpp://127.0.0.1:${args.port}`, domain: args.domain, username: args.username, password: args.password });
  xmpp.reconnect.stop(); // a failed login must not loop
  xmpp.on("error", () => {});
  // xmpp.js prefers SASL2 where offered (Prosody offers it): one round trip
  // fewer than RFC 6120 SASL, so the comparison, if anything, favours it.
  const started = performance.now();
  // xmpp.js's own steps do not all have deadlines: give up on a login after 10 s.
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([xmpp.start(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error("no login within 10 s")), 10_000)))]);
  } catch (err) {
    await xmpp.stop().catch(() => {});
    throw err;
  } finally {
    clearTimeout(timer);
  }
  const ms = performance.now() - started;
  await xmpp.stop();
  return ms;
}

async function xepcheckLogin(): Promise<number> {
  const started = performance.now();
  const session = await login({
    domain: args.domain,
    host: "127.0.0.1",
    port: args.port,
    mode: "starttls",
    tls: {},
    timeoutMs: 30_000,
    credentials: { username: args.username, password: args.password },
    mechanisms: ["SCRAM-SHA-1"],
  });
  const ms = performance.now() - started;
  await session.stream.close();
  return ms;
}

const xmppjs: number[] = [];
const xepcheck: number[] = [];
/** xmpp.js logins that did not finish (its own deadlines, e.g. 2 s for a stream open). */
let xmppjsFailed = 0;
const xmppjsRound = () =>
  xmppjsLogin().then(
    (ms) => void xmppjs.push(ms),
    () => void xmppjsFailed++,
  );
await xmppjsRound(); // warm-up both paths (module loading, TLS session setup)
await xepcheckLogin();
xmppjs.length = 0;
xmppjsFailed = 0;
for (let i = 0; i < args.rounds; i++) {
  await xmppjsRound();
  xepcheck.push(await xepcheckLogin());
}
process.stdout.write(JSON.stringify({ xmppjs, xmppjsFailed, xepcheck }) + "\n");
