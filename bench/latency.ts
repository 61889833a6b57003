/**
 * bench/latency: a TCP relay on loopback that delays every chunk by
 * `delayMs` in each direction (so a round trip costs 2 × delayMs more), in
 * order, as a network path 20–200 ms long would. TLS and STARTTLS pass
 * through untouched: the relay sees bytes only.
 *
 *   const relay = await startDelayRelay({ host: "127.0.0.1", port: 5222, delayMs: 25 });
 *   // connect to 127.0.0.1:relay.port; relay.close() when done
 */
import net from "node:net";

export interface DelayRelay {
  port: number;
  close(): Promise<void>;
}

export async function startDelayRelay(target: { host: string; port: number; delayMs: number }): Promise<DelayRelay> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: target.host, port: target.port, noDelay: true });
    client.setNoDelay(true);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    pipeDelayed(client, upstream, target.delayMs);
    pipeDelayed(upstream, client, target.delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Each chunk from `from` reaches `to` `delayMs` after it arrived; an end follows the last chunk. */
function pipeDelayed(from: net.Socket, to: net.Socket, delayMs: number): void {
  from.on("data", (chunk) => setTimeout(() => to.destroyed || to.write(chunk), delayMs));
  from.on("end", () => setTimeout(() => to.destroyed || to.end(), delayMs));
}
