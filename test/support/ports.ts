// Find a loopback port that is free for both UDP and TCP (for servers that cannot be told "port 0").

import dgram from "node:dgram";
import net from "node:net";

function tryPort(host: string, port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(null));
    srv.listen({ host, port, exclusive: true }, () => {
      const p = (srv.address() as net.AddressInfo).port;
      const sock = dgram.createSocket(net.isIPv6(host) ? "udp6" : "udp4");
      sock.once("error", () => {
        sock.close();
        srv.close(() => resolve(null));
      });
      sock.bind({ address: host, port: p, exclusive: true }, () => {
        sock.close(() => srv.close(() => resolve(p)));
      });
    });
  });
}

/** A port number free for UDP and TCP on `host` at the time of the call. */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await tryPort(host, 0);
    if (p !== null) return p;
  }
  throw new Error(`no free UDP+TCP port on ${host}`);
}
