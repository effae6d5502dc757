import { createServer, type Server, type Socket } from 'node:net';
import { afterEach } from 'vitest';
import { encodeResponse, FrameDecoder, ProtocolError, Status, type Frame } from '../../src/index.js';

const servers: Server[] = [];
const sockets = new Set<Socket>();
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A server that misbehaves on purpose: `onFrame` decides what, if anything, to answer. */
export async function fakeServer(onFrame: (frame: Frame, socket: Socket) => void): Promise<number> {
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    const decoder = new FrameDecoder({ direction: 'request' });
    socket.on('data', (chunk: Buffer) => {
      decoder.push(chunk);
      for (let item = decoder.read(); item !== undefined; item = decoder.read()) {
        if (item instanceof ProtocolError) return socket.destroy();
        onFrame({ ...item, body: Buffer.from(item.body) }, socket);
      }
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

/** Writes an OK response with `body` to the frame with identifier `id`. */
export function reply(socket: Socket, id: bigint, body = '', status: number = Status.OK): void {
  if (!socket.destroyed) socket.write(Buffer.concat(encodeResponse(id, status, Buffer.from(body))));
}
