/**
 * A TCP proxy on 127.0.0.1 that holds every chunk for a fixed delay in each direction, so that a local
 * server costs what one far away does, and counts the round trips its clients make.
 *
 * A round trip is counted each time a client sends after it last received (the first send of a
 * connection included), plus one per connection for the TCP handshake, which the proxy also delays:
 * a client's first bytes reach the server no sooner than three one-way delays after it connected.
 */
import net from 'node:net';

/** What the proxy saw since it started or was last reset. */
export interface ProxyCounts {
  connections: number;
  /** TCP handshakes plus client turns, summed over connections (parallel ones overlap in time). */
  roundTrips: number;
}

/** A running proxy. */
export interface DelayProxy {
  port: number;
  /** The counts so far. */
  counts(): ProxyCounts;
  /** Sets the counts back to zero. */
  reset(): void;
  /** Stops listening and drops every connection. */
  close(): Promise<void>;
}

/** Where to forward and how long each direction waits, in milliseconds (half the round trip). */
export interface DelayProxyOptions {
  host: string;
  port: number;
  oneWayMs: number;
}

/**
 * Writes chunks to `socket` in arrival order, each no sooner than its due time (up to half a millisecond
 * early, as timers fire), and calls a chunk's `delivered` as it is written.
 */
function delayedWriter(socket: net.Socket): (chunk: Buffer, dueAt: number, delivered?: () => void) => void {
  const queue: Array<{ chunk: Buffer; dueAt: number; delivered: (() => void) | undefined }> = [];
  let timer: NodeJS.Timeout | undefined;
  const drain = (): void => {
    timer = undefined;
    const now = performance.now();
    while (queue.length > 0 && queue[0]!.dueAt <= now + 0.5) {
      const { chunk, delivered } = queue.shift()!;
      if (!socket.destroyed) socket.write(chunk);
      delivered?.();
    }
    if (queue.length > 0) timer = setTimeout(drain, queue[0]!.dueAt - now);
  };
  return (chunk, dueAt, delivered) => {
    // Never overtake a chunk queued earlier, whatever its due time.
    const last = queue.at(-1);
    queue.push({ chunk, dueAt: last ? Math.max(last.dueAt, dueAt) : dueAt, delivered });
    if (timer === undefined) timer = setTimeout(drain, Math.max(0, queue[0]!.dueAt - performance.now()));
  };
}

/** Starts a proxy on a free port of 127.0.0.1 in front of `options.host:options.port`. */
export async function startDelayProxy(options: DelayProxyOptions): Promise<DelayProxy> {
  const counts: ProxyCounts = { connections: 0, roundTrips: 0 };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const connectedAt = performance.now();
    counts.connections += 1;
    counts.roundTrips += 1; // the TCP handshake
    let clientSpokeLast = false;
    const upstream = net.connect(options.port, options.host);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    sockets.add(client);
    sockets.add(upstream);
    const toServer = delayedWriter(upstream);
    const toClient = delayedWriter(client);
    // The handshake: SYN, SYN-ACK, then the first data travel one way each.
    const firstDataAt = connectedAt + 3 * options.oneWayMs;
    client.on('data', (chunk) => {
      if (!clientSpokeLast) counts.roundTrips += 1;
      clientSpokeLast = true;
      toServer(chunk, Math.max(performance.now() + options.oneWayMs, firstDataAt));
    });
    // The client's turn ends as the server's answer is written to it: whatever it sends after that is a new
    // round trip. (A timer of the same delay beside the write raced with a client that answers at once,
    // such as a Terminate after the last reply: CI counted 5 round trips for 6.)
    const clientReceived = (): void => {
      clientSpokeLast = false;
    };
    upstream.on('data', (chunk) => toClient(chunk, performance.now() + options.oneWayMs, clientReceived));
    const closeBoth = (): void => {
      // Let what is queued arrive before the far side learns of the close.
      setTimeout(() => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      }, options.oneWayMs + 1);
    };
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);
    client.on('error', () => {});
    upstream.on('error', () => {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    counts: () => ({ ...counts }),
    reset: () => {
      counts.connections = 0;
      counts.roundTrips = 0;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
