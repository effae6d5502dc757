import { request } from 'node:http';

/** PUTs `value` under `key` to the HTTP gateway on 127.0.0.1:`port` with a bearer `token`; resolves with the status. */
export function httpPut(port: number, key: string, value: Buffer, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: 'PUT', path: `/v1/keys/${key}`, headers: { authorization: `Bearer ${token}`, 'content-length': value.length } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('HTTP PUT timed out')));
    req.on('error', reject);
    req.end(value);
  });
}
