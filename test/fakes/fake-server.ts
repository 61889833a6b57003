/**
 * Small fake XMPP servers on loopback that misbehave on purpose, for failure
 * modes no real server produces on demand (silence, hang-ups, garbage).
 */
import net from "node:net";

export interface FakeServer {
  port: number;
  /** Bytes each connection sent us, as text. */
  received: string[];
  connections: number;
  close(): Promise<void>;
}

/** `behave` gets each accepted socket and what it has sent so far. */
export async function startFakeServer(behave: (socket: net.Socket, server: FakeServer) => void): Promise<FakeServer> {
  const sockets = new Set<net.Socket>();
  const fake: FakeServer = {
    port: 0,
    received: [],
    connections: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        srv.close(() => resolve());
      }),
  };
  const srv = net.createServer((socket) => {
    sockets.add(socket);
    const index = fake.connections++;
    fake.received[index] = "";
    socket.on("data", (d) => (fake.received[index] += d.toString()));
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    behave(socket, fake);
  });
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  fake.port = (srv.address() as net.AddressInfo).port;
  return fake;
}

export const STREAM_HEADER =
  "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='fake' from='fake.test' version='1.0'>";

/** Answers the client's stream header with ours, then does `next`. */
export function afterHeader(socket: net.Socket, next: () => void): void {
  let answered = false;
  socket.on("data", (d) => {
    if (!answered && d.toString().includes("<stream:stream")) {
      answered = true;
      socket.write(STREAM_HEADER);
      next();
    }
  });
}
