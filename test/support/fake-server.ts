import { createServer, type Server, type Socket } from 'node:net';
import { afterEach } from 'vitest';
import { encodeResponse, FrameDecoder, Opcode, ProtocolError, Status, type Frame } from '../../src/index.js';

const servers: Server[] = [];
const sockets = new Set<Socket>();
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/**
 * A server that misbehaves on purpose: `onFrame` decides what, if anything, to answer.
 * It is a protocol 1.0 server: the CAPS that ConduitClient sends first on every connection
 * (spec §3.13) is answered UNKNOWN_OPCODE here, as 1.0 does, unless `caps: 'passthrough'`
 * hands it to `onFrame` like any other frame.
 */
export async function fakeServer(onFrame: (frame: Frame, socket: Socket) => void, { caps = 'answer' }: { caps?: 'answer' | 'passthrough' } = {}): Promise<number> {
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    const decoder = new FrameDecoder({ direction: 'request' });
    socket.on('data', (chunk: Buffer) => {
      decoder.push(chunk);
      for (let item = decoder.read(); item !== undefined; item = decoder.read()) {
        if (item instanceof ProtocolError) return socket.destroy();
        if (caps === 'answer' && item.opcode === Opcode.CAPS) {
          reply(socket, item.id, 'unknown opcode', Status.UNKNOWN_OPCODE);
          continue;
        }
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
