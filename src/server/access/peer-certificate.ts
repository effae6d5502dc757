import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

/**
 * The common name (CN) a `[[certificates]]` rule matches (issue 25, spec §3.17) of the
 * client certificate `socket` presented and the server verified (--tls-client-auth):
 * `undefined` when there is none, when it was not verified, or when its subject has no
 * CN or several. Several match nothing: which one a CA vetted is not ours to guess (an
 * outside review found a rule matched on the first CN of `CN=reports.internal, CN=other`).
 *
 * @example
 * ```ts
 * const rights = access.table.forCertificate(peerCommonName(socket));
 * ```
 */
export function peerCommonName(socket: Socket): string | undefined {
  const tls = socket as Partial<TLSSocket>;
  if (tls.authorized !== true || typeof tls.getPeerCertificate !== 'function') return undefined;
  const cn: unknown = tls.getPeerCertificate().subject?.CN;
  return typeof cn === 'string' ? cn : undefined;
}
