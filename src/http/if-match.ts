/**
 * The gateway's `If-Match` precondition (RFC 9110 §13.1.1) over item
 * versions (spec §3.11): the gateway answers each item's version as a strong
 * ETag `"N"`, and a request that changes a key (PUT, DELETE, `POST …/incr`)
 * with `If-Match` proceeds only when the key exists and the header names its
 * current version, or is `*` (any current representation). Weak tags never
 * match: the strong comparison function applies to `If-Match`.
 *
 * @example
 * ```ts
 * const condition = parseIfMatch('"7", "9"'); // { kind: 'tags', versions: [7n, 9n] }
 * ifMatchHolds(condition, 9n); // true
 * ifMatchHolds(condition, undefined); // false: the key is absent
 * ```
 * @module
 */

/** A parsed `If-Match`: `*`, or the versions its strong tags name (possibly none). */
export type IfMatch = { readonly kind: 'any' } | { readonly kind: 'tags'; readonly versions: readonly bigint[] };

/** Why a header was refused: the caller turns it into a 400 naming the header. */
export class IfMatchSyntaxError extends Error {}

const U64_LIMIT = 1n << 64n;
/** One entity-tag and what follows it: `[W/]"opaque"` (etagc: 0x21, 0x23–0x7E, obs-text), then a comma or the end. */
const ENTITY_TAG = /(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(?:,|$)/y;
/** Whitespace and commas between list elements. */
const LIST_GAP = /[\s,]*/y;

/**
 * Parses an `If-Match` header (several headers arrive joined by commas).
 * `undefined` without one; throws {@link IfMatchSyntaxError} when it is not
 * `*` or a list of entity-tags. Tags that are weak, or opaque strings that
 * are not a version this gateway issued, are kept out of `versions`: they
 * can never match.
 *
 * @example
 * ```ts
 * parseIfMatch('*'); // { kind: 'any' }
 * parseIfMatch('W/"7"'); // { kind: 'tags', versions: [] }
 * ```
 */
export function parseIfMatch(header: string | readonly string[] | undefined): IfMatch | undefined {
  if (header === undefined) return undefined;
  const text = typeof header === 'string' ? header : header.join(', ');
  if (text.trim() === '*') return { kind: 'any' };
  const versions: bigint[] = [];
  ENTITY_TAG.lastIndex = 0;
  let tags = 0;
  for (;;) {
    // RFC 9110 §5.6.1: a recipient accepts empty list elements ("a, , b").
    LIST_GAP.lastIndex = ENTITY_TAG.lastIndex;
    LIST_GAP.exec(text);
    if (LIST_GAP.lastIndex >= text.length) break;
    const at = LIST_GAP.lastIndex;
    ENTITY_TAG.lastIndex = at;
    const match = ENTITY_TAG.exec(text);
    if (match === null || ENTITY_TAG.lastIndex === at) {
      throw new IfMatchSyntaxError(`If-Match must be * or a list of ETags such as "N", got '${text}'`);
    }
    tags += 1;
    const opaque = match[2] as string;
    if (match[1] === undefined && /^[1-9]\d{0,19}$/.test(opaque) && BigInt(opaque) < U64_LIMIT) versions.push(BigInt(opaque));
  }
  if (tags === 0) throw new IfMatchSyntaxError(`If-Match must be * or a list of ETags such as "N", got '${text}'`);
  return { kind: 'tags', versions };
}

/**
 * Whether the precondition holds for a key whose current version is
 * `current` (`undefined`: absent). RFC 9110 §13.1.1: `*` holds for any
 * current representation; a list holds when one strong tag names it.
 *
 * @example
 * ```ts
 * ifMatchHolds({ kind: 'any' }, undefined); // false
 * ```
 */
export function ifMatchHolds(condition: IfMatch, current: bigint | undefined): boolean {
  if (current === undefined) return false;
  return condition.kind === 'any' || condition.versions.includes(current);
}
