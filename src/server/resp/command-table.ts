/**
 * Redis's own COMMAND INFO and COMMAND DOCS data for every command the RESP
 * port runs (docs/RESP.md): arity and flags for the dispatcher, the rest for
 * COMMAND's replies (redis-cli's hints). Written by
 * `node scripts/resp-command-table.mjs` from Redis 7.0.15; CLIENT SETINFO
 * (Redis 7.2) by hand in that script. Do not edit: regenerate.
 *
 * @example
 * ```ts
 * COMMAND_TABLE.find((c) => c.name === 'get')?.arity; // 2
 * ```
 * @module
 */

/** A value of COMMAND DOCS or a key spec: maps, arrays, strings and integers (`flags` are sets of simple strings). */
export type DocValue = string | number | readonly DocValue[] | { readonly [field: string]: DocValue };

/** One command as COMMAND INFO (the fields) and COMMAND DOCS (`docs`) describe it. */
export interface CommandSpec {
  /** Lower case; a subcommand's is `container|sub`. */
  readonly name: string;
  /** Redis's arity: n = exactly n arguments with the name, -n = at least n. */
  readonly arity: number;
  readonly flags: readonly string[];
  readonly firstKey: number;
  readonly lastKey: number;
  readonly step: number;
  readonly acl: readonly string[];
  readonly tips: readonly string[];
  readonly keySpecs: readonly { readonly [field: string]: DocValue }[];
  readonly docs: { readonly [field: string]: DocValue };
  readonly subcommands?: readonly CommandSpec[];
}

/**
 * Every command, in the order of the generator's list.
 *
 * @example
 * ```ts
 * COMMAND_TABLE.length; // the COMMAND COUNT answer
 * ```
 */
export const COMMAND_TABLE: readonly CommandSpec[] = [ 
  { "name": "get", "arity": 2, "flags": [ "readonly", "fast" ], "firstKey": 1, "lastKey": 1, "step": 1, "acl": [ "@read", "@string", "@fast" ], "tips": [], "keySpecs": [ { "flags": [ "RO", "access" ], "begin_search": { "type": "index", "spec": { "index": 1 } }, "find_keys": { "type": "range", "spec": { "lastkey": 0, "keystep": 1, "limit": 0 } } } ], "docs": { "summary": "Get the value of a key", "since": "1.0.0", "group": "string", "complexity": "O(1)", "arguments": [ 
  { "name": "key", "type": "key", "key_spec_index": 0 } ] } }, 
  { "name": "set", "arity": -3, "flags": [ "write", "denyoom" ], "firstKey": 1, "lastKey": 1, "step": 1, "acl": [ "@write", "@string", "@slow" ], "tips": [], "keySpecs": [ { "notes": "RW and ACCESS due to the optional `GET` argument", "flags": [ "RW", "access", "update", "variable_flags" ], "begin_search": { "type": "index", "spec": { "index": 1 } }, "find_keys": { "type": "range", "spec": { "lastkey": 0, "keystep": 1, "limit": 0 } } } ], "docs": { "summary": "Set the string value of a key", "since": "1.0.0", "group": "string", "complexity": "O(1)", "history": [ [ "2.6.12", "Added the `EX`, `PX`, `NX` and `XX` options." ], [ "6.0.0", "Added the `KEEPTTL` option." ], [ "6.2.0", "Added the `GET`, `EXAT` and `PXAT` option." ], [ "7.0.0", "Allowed the `NX` and `GET` options to be used together." ] ], "arguments": [ 
  { "name": "key", "type": "key", "key_spec_index": 0 }, 
  { "name": "value", "type": "string" }, 
  { "name": "condition", "type": "oneof", "since": "2.6.12", "flags": [ "optional" ], "arguments": [ 
  { "name": "nx", "type": "pure-token", "token": "NX" }, 
  { "name": "xx", "type": "pure-token", "token": "XX" } ] }, 
  { "name": "get", "type": "pure-token", "token": "GET", "since": "6.2.0", "flags": [ "optional" ] }, 
  { "name": "expiration", "type": "oneof", "flags": [ "optional" ], "arguments": [ 
  { "name": "seconds", "type": "integer", "token": "EX", "since": "2.6.12" }, 
  { "name": "milliseconds", "type": "integer", "token": "PX", "since": "2.6.12" }, 
  { "name": "unix-time-seconds", "type": "unix-time", "token": "EXAT", "since": "6.2.0" }, 
  { "name": "unix-time-milliseconds", "type": "unix-time", "token": "PXAT", "since": "6.2.0" }, 
  { "name": "keepttl", "type": "pure-token", "token": "KEEPTTL", "since": "6.0.0" } ] } ] } }, 
  { "name": "setnx", "arity": 3, "flags": [ "write", "denyoom", "fast" ], "firstKey": 1, "lastKey": 1, "step": 1, "acl": [ "@write", "@string", "@fast" ], "tips": [], "keySpecs": [ { "flags": [ "OW", "insert" ], "begin_search": { "type": "index", "spec": { "index": 1 } }, "find_keys": { "type": "range", "spec": { "lastkey": 0, "keystep": 1, "limit": 0 } } } ], "docs": { "summary": "Set the value of a key, only if the key does not exist", "since": "1.0.0", "group": "string", "complexity": "O(1)", "arguments": [ 
  { "name": "key", "type": "key", "key_spec_index": 0 }, 
  { "name": "value", "type": "string" } ] } }, 
  { "name": "setex", "arity": 4, "flags": [ "write", "denyoom" ], "firstKey": 1, "lastKey": 1, "step": 1, "acl": [ "@write", "@string", "@slow" ], "tips": [], "keySpecs": [ { "flags": [ "OW", "update" ], "begin_search": { "type": "index", "spec": { "index": 1 } }, "find_keys": { "type": "range", "spec": { "lastkey": 0, "keystep": 1, "limit": 0 } } } ], "docs": { "summary": "Set the value and expiration of a key", "since": "2.0.0", "group": "string", "complexity": "O(1)", "arguments": [ 
  { "name": "key", "type": "key", "key_spec_index": 0 }, 
  { "name": "seconds", "type": "integer" }, 
  { "name": "value", "type": "string" } ] } }, 
  { "name": "psetex", "arity": 4, "flags": [ "write", "denyoom" ], "firstKey": 1, "lastKey": 1, "step": 1, "acl": [ "@write", "@string", "@slow" ], "tips": [], "keySpecs": [ { "flags": [ "OW", "update" ], "begin_search": { "type": "index", "spec": { "index": 1 } }, "find_keys": { "type": "range", "spec": { "lastkey": 0, "keystep": 1, "limit": 0 } } } ], "docs": { "summary": "Set the value and expiration in milliseconds of a key", "since": "2.6.0", "group": "string", "complexity": "O(1)", "arguments": [ 
  { "name": "key", "type": "key", "key_spec_index": 0 }, 
  { "name": "milliseconds", "type": "integer" }, 
  { "name": "value", "type": "string" } ] } }, 
  { "name": "getex", "arity": -2, "flags": [ "write", "fast" ], "firstKey": 1, "lastKey": 1, "step": 1, "acl": [ "@write", "@string", "@fast" ], "tips": [], "keySpecs": [ { "notes": "RW and UPDATE because it changes the TTL", "flags": [ "RW", "access", "update" ], "begin_search": { "type": "index", "spec": { "index": 1 } }, "find_keys": { "type": "range", "spec": { "lastkey": 0, "keystep": 1, "limit": 0 } } } ], "docs": { "summary": "Get the value of a key and optionally set its expiration", "since": "6.2.0", "group": "string", "complexity": "O(1)", "arguments": [ 
  { "name": "key", "type": "key", "key_spec_index": 0 }, 
  { "name": "expiration", "type": "oneof", "flags": [ "optional" ], "arguments": [ 
  { "name": "seconds", "type": "integer", "token": "EX" }, 
  { "name": "milliseconds", "type": "integer", "token": "PX" }, 
  { "name": "unix-time-seconds", "type": "unix-time", "token": "EXAT" }, 
  { "name": "unix-time-milliseconds", "type": "unix-time", "token": "PXAT" }, 
  { "name": "persist", "type": "pure-token", "token": "PERSIST" } ] } ] } }, 
  { "name": "getdel", "arity": 2, "flags": [ "write", "fast" ], "firstKey": 1, "lastKey": 1, "step": 1, "acl": [ "@write", "@string", "@fast" ], "tips": [], "keySpecs": [ { "flags": [ "RW", "access", "delete" ], "begin_search": { "type": "index", "spec": { "index": 1 } }, "find_keys": { "type": "range", "spec": { "lastkey": 0, "keystep": 1, "limit": 0 } } } ], "docs": { "summary": "Get the value of a key and delete the key", "since": "6.2.0", "group": "string", "complexity": "O(1)", "arguments": [ 
  { "name": "key", "type": "key", "key_spec_index": 0 } ] } }, 
  { "name": "mget", "arity": -2, "flags": [ "readonly", "fast" ], "firstKey": 1, "lastKey": -1, "step": 1, "acl": [ "@read", "@string", "@fast" ], "tips": [ "request_policy:multi_shard" ], "keySpecs": [ { "flags": [ "RO", "access" ], "begin_search": { "type": "index", "spec": { "index": 1 } }, "find_keys": { "type": "range", "spec": { "lastkey": -1, "keystep": 1, "limit": 0 } } } ], "docs": { "summary": "Get the values of all the given keys", "since": "1.0.0", "group": "string", "complexity": "O(N) where N is the number of keys to retrieve.", "arguments": [ 
  { "name": "key", "type": "key", "key_spec_index": 0, "flags": [ "multiple" ] } ] } }, 
  { "name": "mset", "arity": -3, "flags": [ "write", "denyoom" ], "firstKey": 1, "lastKey": -1, "step": 2, "acl": [ "@write", "@string", "@slow" ], "tips": [ "request_policy:multi_shard", "response_policy:all_succeeded" ], "keySpecs": [ { "flags": [ "OW", "update" ], "begin_search": { "type": "index", "spec": { "index": 1 } }, "find_keys": { "type": "range", "spec": { "lastkey": -1, "keystep": 2, "limit": 0 } } } ], "docs": { "summary": "Set multiple keys to multiple values", "since": "1.0.1", "group": "string", "complexity": "O(N) where N is the number of keys to set.", "arguments": [ 
  { "name": "key_value", "type": "block", "flags": [ "multiple" ], "arguments": [ 
  { "name": "key", "type": "key", "key_spec_index": 0 }, 
  { "name": "value", "type": "string" } ] } ] } }, 
  { "name": "msetnx", "arity": -3, "flags": [ "write", "denyoom" ], "firstKey": 1, "lastKey": -1, "step": 2, "acl": [ "@write", "@string", "@slow" ], "tips": [ "request_policy:multi_shard", "response_policy:agg_min" ], "keySpecs": [ { "flags": [ "OW", "insert" ], "begin_search": { "type": "index", "spec": { "index": 1 } }, "find_keys": { "type": "range", "spec": { "lastkey": -1, "keystep": 2, "limit": 0 } } } ], "docs": { "summary": "Set multiple keys to multiple values, only if none of the keys exist", "since": "1.0.1", "group": "string", "complexity": "O(N) where N is the number of keys to set.", "arguments": [ 
  { "name": "key_value", "type": "block", "flags": [ "multiple" ], "arguments": [ 
  { "name": "key", "type": "key", "key_spec_index": 0 }, 
  { "name": "value", "type": "string" } ] } ] } }, 
  { "name": "append", "arity": 3, "flags": [ "write", "denyoom", "fast" ], "firstKey": 1, "lastKey": 1, "step": 1, "acl": [ "@write", "@string", "@fast" ], "tips": [], "keySpecs": [ { "flags": [ "RW", "insert" ], "begin_search": { "type": "index", "spec": { "index": 1 } }, "find_keys": { "type": "range", "spec": { "lastkey": 0, "keystep": 1, "limit": 0 } } } ], "docs": { "summary": "Append a value to a key", "since": "2.0.0", "group": "string", "complexity": "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.", "arguments": [ 
  { "name": "key", "type": "key", "key_spec_index": 0 }, 
  { "name": "value", "type": "string" } ] } }, 
  { "name": "strlen", "arity": 2, "flags": [ "readonly", "fast" ], "firstKey": 1, "lastKey": 1, "step": 1, "acl": [ "@read", "@string", "@fast" ], "tips": [], "keySpecs": [ { "flags": [ "RO" ], "begin_search": { "type": "index", "spec": { "index": 1 } }, "find_keys": { "type": "range", "spec": { "lastkey": 0, "keystep": 1, "limit": 0 } } } ], "docs": { "summary": "Get the length of the value stored in a key", "since": "2.2.0", "group": "string", "complexity": "O(1)", "arguments": [ 
  { "name": "key", "type": "key", "key_spec_index": 0 } ] } }, 
  { "name": "incr", "arity": 2, "flags": [ "write", "denyoom", "fast" ], "firstKey": 1, "lastKey": 1, "step": 1, "acl": [ "@write", "@string", "@fast" ], "tips": [], "keySpecs": [ { "flags": [ "RW", "access", "update" ], "begin_search": { "type": "index", "spec": { "index": 1 } }, "find_keys": { "type": "range", "spec": { "lastkey": 0, "keystep": 1, "limit": 0 } } } ], "docs": { "summary": "Increment the integer value of a key by one", "since": "1.0.0", "group": "string", "complexity": "O(1)", "arguments": [ 
  { "name": "key", "type": "key", "key_spec_index": 0 } ] } }, 
  { "name": "decr", "arity": 2, "flags": [ "write", "denyoom", "fast" ], "firstKey": 1, "lastKey": 1, "step": 1, "acl": [ "@write", "@string", "@fast" ], "tips": [], "keySpecs": [ { "flags": [ "RW", "access", "update" ], "begin_search": { "type": "index", "spec": { "index": 1 } }, "find_keys": { "type": "range", "spec": { "lastkey": 0, "keystep": 1, "limit": 0 } } } ], "docs": { "summary": "Decrement the integer value of a key by one", "since": "1.0.0", "group": "string", "complexity": "O(1)", "arguments": [ 
  { "name": "key", "type": "key", "key_spec_index": 0 } ] } }, 
  { "name": "incrby", "arity": 3, "flags": [ "write", "denyoom", "fast" ], "firstKey": 1, "lastKey": 1, "step": 1, "acl": [ "@write", "@string", "@fast" ], "tips": [], "keySpecs": [ { "flags": [ "RW", "access", "update" ], "begin_search": { "type": "index", "spec": { "index": 1 } }, "find_keys": { "type": "range", "spec": { "lastkey": 0, "keystep": 1, "limit": 0 } } } ], "docs": { "summary": "Increment the integer value of a key by the given amount", "since": "1.0.0", "group": "string", "complexity": "O(1)", "arguments": [ 
  { "name": "key", "type": "key", "key_spec_index": 0 }, 
  { "name": "increment", "type": "integer" } ] } }, 
  { "name": "decrby", "arity": 3, "flags": [ "write", "denyoom", "fast" ], "firstKey": 1, "lastKey": 1, "step": 1, "acl": [ "@write", "@string", "@fast" ], "tips": [], "keySpecs": [ { "flags": [ "RW", "access", "update" ], "begin_search": { "type": "index", "spec": { "index": 1 } }, "find_keys": { "type": "range", "spec": { "lastkey": 0, "keystep": 1, "limit": 0 } } } ], "docs": { "summary": "Decrement the integer value of a key by the given number", "since": "1.0.0", "group": "string", "complexity": "O(1)", "arguments": [ 
  { "name": "key", "type": "key", "key_spec_index": 0 }, 
  { "name": "decrement", "type": "integer" } ] } }, 
  { "name": "del", "arity": -2, "flags": [ "write" ], "firstKey": 1, "lastKey": -1, "step": 1, "acl": [ "@keyspace", "@write", "@slow" ], "tips": [ "request_policy:multi_shard", "response_policy:agg_sum" ], "keySpecs": [ { "flags": [ "RM", "delete" ], "begin_search": { "type": "index", "spec": { "index": 1 } }, "find_keys": { "type": "range", "spec": { "lastkey": -1, "keystep": 1, "limit": 0 } } } ], "docs": { "summary": "Delete a key", "since": "1.0.0", "group": "generic", "complexity": "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).", "arguments": [ 
  { "name": "key", "type": "key", "key_spec_index": 0, "flags": [ "multiple" ] } ] } }, 
  { "name": "unlink", "arity": -2, "flags": [ "write", "fast" ], "firstKey": 1, "lastKey": -1, "step": 1, "acl": [ "@keyspace", "@write", "@fast" ], "tips": [ "request_policy:multi_shard", "response_policy:agg_sum" ], "keySpecs": [ { "flags": [ "RM", "delete" ], "begin_search": { "type": "index", "spec": { "index": 1 } }, "find_keys": { "type": "range", "spec": { "lastkey": -1, "keystep": 1, "limit": 0 } } } ], "docs": { "summary": "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.", "since": "4.0.0", "group": "generic", "complexity": "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.", "arguments": [ 
  { "name": "key", "type": "key", "key_spec_index": 0, "flags": [ "multiple" ] } ] } }, 
  { "name": "exists", "arity": -2, "flags": [ "readonly", "fast" ], "firstKey": 1, "lastKey": -1, "step": 1, "acl": [ "@keyspace", "@read", "@fast" ], "tips": [ "request_policy:multi_shard", "response_policy:agg_sum" ], "keySpecs": [ { "flags": [ "RO" ], "begin_search": { "type": "index", "spec": { "index": 1 } }, "find_keys": { "type": "range", "spec": { "lastkey": -1, "keystep": 1, "limit": 0 } } } ], "docs": { "summary": "Determine if a key exists", "since": "1.0.0", "group": "generic", "complexity": "O(N) where N is the number of keys to check.", "history": [ [ "3.0.3", "Accepts multiple `key` arguments." ] ], "arguments": [ 
  { "name": "key", "type": "key", "key_spec_index": 0, "flags": [ "multiple" ] } ] } }, 
  { "name": "type", "arity": 2, "flags": [ "readonly", "fast" ], "firstKey": 1, "lastKey": 1, "step": 1, "acl": [ "@keyspace", "@read", "@fast" ], "tips": [], "keySpecs": [ { "flags": [ "RO" ], "begin_search": { "type": "index", "spec": { "index": 1 } }, "find_keys": { "type": "range", "spec": { "lastkey": 0, "keystep": 1, "limit": 0 } } } ], "docs": { "summary": "Determine the type stored at key", "since": "1.0.0", "group": "generic", "complexity": "O(1)", "arguments": [ 
  { "name": "key", "type": "key", "key_spec_index": 0 } ] } }, 
  { "name": "keys", "arity": 2, "flags": [ "readonly" ], "firstKey": 0, "lastKey": 0, "step": 0, "acl": [ "@keyspace", "@read", "@slow", "@dangerous" ], "tips": [ "request_policy:all_shards", "nondeterministic_output_order" ], "keySpecs": [], "docs": { "summary": "Find all keys matching the given pattern", "since": "1.0.0", "group": "generic", "complexity": "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.", "arguments": [ 
  { "name": "pattern", "type": "pattern" } ] } }, 
  { "name": "scan", "arity": -2, "flags": [ "readonly" ], "firstKey": 0, "lastKey": 0, "step": 0, "acl": [ "@keyspace", "@read", "@slow" ], "tips": [ "nondeterministic_output", "request_policy:special" ], "keySpecs": [], "docs": { "summary": "Incrementally iterate the keys space", "since": "2.8.0", "group": "generic", "complexity": "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.", "history": [ [ "6.0.0", "Added the `TYPE` subcommand." ] ], "arguments": [ 
  { "name": "cursor", "type": "integer" }, 
  { "name": "pattern", "type": "pattern", "token": "MATCH", "flags": [ "optional" ] }, 
  { "name": "count", "type": "integer", "token": "COUNT", "flags": [ "optional" ] }, 
  { "name": "type", "type": "string", "token": "TYPE", "since": "6.0.0", "flags": [ "optional" ] } ] } }, 
  { "name": "dbsize", "arity": 1, "flags": [ "readonly", "fast" ], "firstKey": 0, "lastKey": 0, "step": 0, "acl": [ "@keyspace", "@read", "@fast" ], "tips": [ "request_policy:all_shards", "response_policy:agg_sum" ], "keySpecs": [], "docs": { "summary": "Return the number of keys in the selected database", "since": "1.0.0", "group": "server", "complexity": "O(1)" } }, 
  { "name": "flushdb", "arity": -1, "flags": [ "write" ], "firstKey": 0, "lastKey": 0, "step": 0, "acl": [ "@keyspace", "@write", "@slow", "@dangerous" ], "tips": [ "request_policy:all_shards", "response_policy:all_succeeded" ], "keySpecs": [], "docs": { "summary": "Remove all keys from the current database", "since": "1.0.0", "group": "server", "complexity": "O(N) where N is the number of keys in the selected database", "history": [ [ "4.0.0", "Added the `ASYNC` flushing mode modifier." ], [ "6.2.0", "Added the `SYNC` flushing mode modifier." ] ], "arguments": [ 
  { "name": "async", "type": "oneof", "flags": [ "optional" ], "arguments": [ 
  { "name": "async", "type": "pure-token", "token": "ASYNC", "since": "4.0.0" }, 
  { "name": "sync", "type": "pure-token", "token": "SYNC", "since": "6.2.0" } ] } ] } }, 
  { "name": "flushall", "arity": -1, "flags": [ "write" ], "firstKey": 0, "lastKey": 0, "step": 0, "acl": [ "@keyspace", "@write", "@slow", "@dangerous" ], "tips": [ "request_policy:all_shards", "response_policy:all_succeeded" ], "keySpecs": [], "docs": { "summary": "Remove all keys from all databases", "since": "1.0.0", "group": "server", "complexity": "O(N) where N is the total number of keys in all databases", "history": [ [ "4.0.0", "Added the `ASYNC` flushing mode modifier." ], [ "6.2.0", "Added the `SYNC` flushing mode modifier." ] ], "arguments": [ 
  { "name": "async", "type": "oneof", "flags": [ "optional" ], "arguments": [ 
  { "name": "async", "type": "pure-token", "token": "ASYNC", "since": "4.0.0" }, 
  { "name": "sync", "type": "pure-token", "token": "SYNC", "since": "6.2.0" } ] } ] } }, 
  { "name": "expire", "arity": -3, "flags": [ "write", "fast" ], "firstKey": 1, "lastKey": 1, "step": 1, "acl": [ "@keyspace", "@write", "@fast" ], "tips": [], "keySpecs": [ { "flags": [ "RW", "update" ], "begin_search": { "type": "index", "spec": { "index": 1 } }, "find_keys": { "type": "range", "spec": { "lastkey": 0, "keystep": 1, "limit": 0 } } } ], "docs": { "summary": "Set a key's time to live in seconds", "since": "1.0.0", "group": "generic", "complexity": "O(1)", "history": [ [ "7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`." ] ], "arguments": [ 
  { "name": "key", "type": "key", "key_spec_index": 0 }, 
  { "name": "seconds", "type": "integer" }, 
  { "name": "condition", "type": "oneof", "since": "7.0.0", "flags": [ "optional" ], "arguments": [ 
  { "name": "nx", "type": "pure-token", "token": "NX" }, 
  { "name": "xx", "type": "pure-token", "token": "XX" }, 
  { "name": "gt", "type": "pure-token", "token": "GT" }, 
  { "name": "lt", "type": "pure-token", "token": "LT" } ] } ] } }, 
  { "name": "pexpire", "arity": -3, "flags": [ "write", "fast" ], "firstKey": 1, "lastKey": 1, "step": 1, "acl": [ "@keyspace", "@write", "@fast" ], "tips": [], "keySpecs": [ { "flags": [ "RW", "update" ], "begin_search": { "type": "index", "spec": { "index": 1 } }, "find_keys": { "type": "range", "spec": { "lastkey": 0, "keystep": 1, "limit": 0 } } } ], "docs": { "summary": "Set a key's time to live in milliseconds", "since": "2.6.0", "group": "generic", "complexity": "O(1)", "history": [ [ "7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`." ] ], "arguments": [ 
  { "name": "key", "type": "key", "key_spec_index": 0 }, 
  { "name": "milliseconds", "type": "integer" }, 
  { "name": "condition", "type": "oneof", "since": "7.0.0", "flags": [ "optional" ], "arguments": [ 
  { "name": "nx", "type": "pure-token", "token": "NX" }, 
  { "name": "xx", "type": "pure-token", "token": "XX" }, 
  { "name": "gt", "type": "pure-token", "token": "GT" }, 
  { "name": "lt", "type": "pure-token", "token": "LT" } ] } ] } }, 
  { "name": "expireat", "arity": -3, "flags": [ "write", "fast" ], "firstKey": 1, "lastKey": 1, "step": 1, "acl": [ "@keyspace", "@write", "@fast" ], "tips": [], "keySpecs": [ { "flags": [ "RW", "update" ], "begin_search": { "type": "index", "spec": { "index": 1 } }, "find_keys": { "type": "range", "spec": { "lastkey": 0, "keystep": 1, "limit": 0 } } } ], "docs": { "summary": "Set the expiration for a key as a UNIX timestamp", "since": "1.2.0", "group": "generic", "complexity": "O(1)", "history": [ [ "7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`." ] ], "arguments": [ 
  { "name": "key", "type": "key", "key_spec_index": 0 }, 
  { "name": "unix-time-seconds", "type": "unix-time" }, 
  { "name": "condition", "type": "oneof", "since": "7.0.0", "flags": [ "optional" ], "arguments": [ 
  { "name": "nx", "type": "pure-token", "token": "NX" }, 
  { "name": "xx", "type": "pure-token", "token": "XX" }, 
  { "name": "gt", "type": "pure-token", "token": "GT" }, 
  { "name": "lt", "type": "pure-token", "token": "LT" } ] } ] } }, 
  { "name": "pexpireat", "arity": -3, "flags": [ "write", "fast" ], "firstKey": 1, "lastKey": 1, "step": 1, "acl": [ "@keyspace", "@write", "@fast" ], "tips": [], "keySpecs": [ { "flags": [ "RW", "update" ], "begin_search": { "type": "index", "spec": { "index": 1 } }, "find_keys": { "type": "range", "spec": { "lastkey": 0, "keystep": 1, "limit": 0 } } } ], "docs": { "summary": "Set the expiration for a key as a UNIX timestamp specified in milliseconds", "since": "2.6.0", "group": "generic", "complexity": "O(1)", "history": [ [ "7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`." ] ], "arguments": [ 
  { "name": "key", "type": "key", "key_spec_index": 0 }, 
  { "name": "unix-time-milliseconds", "type": "unix-time" }, 
  { "name": "condition", "type": "oneof", "since": "7.0.0", "flags": [ "optional" ], "arguments": [ 
  { "name": "nx", "type": "pure-token", "token": "NX" }, 
  { "name": "xx", "type": "pure-token", "token": "XX" }, 
  { "name": "gt", "type": "pure-token", "token": "GT" }, 
  { "name": "lt", "type": "pure-token", "token": "LT" } ] } ] } }, 
  { "name": "ttl", "arity": 2, "flags": [ "readonly", "fast" ], "firstKey": 1, "lastKey": 1, "step": 1, "acl": [ "@keyspace", "@read", "@fast" ], "tips": [ "nondeterministic_output" ], "keySpecs": [ { "flags": [ "RO", "access" ], "begin_search": { "type": "index", "spec": { "index": 1 } }, "find_keys": { "type": "range", "spec": { "lastkey": 0, "keystep": 1, "limit": 0 } } } ], "docs": { "summary": "Get the time to live for a key in seconds", "since": "1.0.0", "group": "generic", "complexity": "O(1)", "history": [ [ "2.8.0", "Added the -2 reply." ] ], "arguments": [ 
  { "name": "key", "type": "key", "key_spec_index": 0 } ] } }, 
  { "name": "pttl", "arity": 2, "flags": [ "readonly", "fast" ], "firstKey": 1, "lastKey": 1, "step": 1, "acl": [ "@keyspace", "@read", "@fast" ], "tips": [ "nondeterministic_output" ], "keySpecs": [ { "flags": [ "RO", "access" ], "begin_search": { "type": "index", "spec": { "index": 1 } }, "find_keys": { "type": "range", "spec": { "lastkey": 0, "keystep": 1, "limit": 0 } } } ], "docs": { "summary": "Get the time to live for a key in milliseconds", "since": "2.6.0", "group": "generic", "complexity": "O(1)", "history": [ [ "2.8.0", "Added the -2 reply." ] ], "arguments": [ 
  { "name": "key", "type": "key", "key_spec_index": 0 } ] } }, 
  { "name": "persist", "arity": 2, "flags": [ "write", "fast" ], "firstKey": 1, "lastKey": 1, "step": 1, "acl": [ "@keyspace", "@write", "@fast" ], "tips": [], "keySpecs": [ { "flags": [ "RW", "update" ], "begin_search": { "type": "index", "spec": { "index": 1 } }, "find_keys": { "type": "range", "spec": { "lastkey": 0, "keystep": 1, "limit": 0 } } } ], "docs": { "summary": "Remove the expiration from a key", "since": "2.2.0", "group": "generic", "complexity": "O(1)", "arguments": [ 
  { "name": "key", "type": "key", "key_spec_index": 0 } ] } }, 
  { "name": "expiretime", "arity": 2, "flags": [ "readonly", "fast" ], "firstKey": 1, "lastKey": 1, "step": 1, "acl": [ "@keyspace", "@read", "@fast" ], "tips": [], "keySpecs": [ { "flags": [ "RO", "access" ], "begin_search": { "type": "index", "spec": { "index": 1 } }, "find_keys": { "type": "range", "spec": { "lastkey": 0, "keystep": 1, "limit": 0 } } } ], "docs": { "summary": "Get the expiration Unix timestamp for a key", "since": "7.0.0", "group": "generic", "complexity": "O(1)", "arguments": [ 
  { "name": "key", "type": "key", "key_spec_index": 0 } ] } }, 
  { "name": "pexpiretime", "arity": 2, "flags": [ "readonly", "fast" ], "firstKey": 1, "lastKey": 1, "step": 1, "acl": [ "@keyspace", "@read", "@fast" ], "tips": [], "keySpecs": [ { "flags": [ "RO", "access" ], "begin_search": { "type": "index", "spec": { "index": 1 } }, "find_keys": { "type": "range", "spec": { "lastkey": 0, "keystep": 1, "limit": 0 } } } ], "docs": { "summary": "Get the expiration Unix timestamp for a key in milliseconds", "since": "7.0.0", "group": "generic", "complexity": "O(1)", "arguments": [ 
  { "name": "key", "type": "key", "key_spec_index": 0 } ] } }, 
  { "name": "ping", "arity": -1, "flags": [ "fast" ], "firstKey": 0, "lastKey": 0, "step": 0, "acl": [ "@fast", "@connection" ], "tips": [ "request_policy:all_shards", "response_policy:all_succeeded" ], "keySpecs": [], "docs": { "summary": "Ping the server", "since": "1.0.0", "group": "connection", "complexity": "O(1)", "arguments": [ 
  { "name": "message", "type": "string", "flags": [ "optional" ] } ] } }, 
  { "name": "echo", "arity": 2, "flags": [ "loading", "stale", "fast" ], "firstKey": 0, "lastKey": 0, "step": 0, "acl": [ "@fast", "@connection" ], "tips": [], "keySpecs": [], "docs": { "summary": "Echo the given string", "since": "1.0.0", "group": "connection", "complexity": "O(1)", "arguments": [ 
  { "name": "message", "type": "string" } ] } }, 
  { "name": "select", "arity": 2, "flags": [ "loading", "stale", "fast" ], "firstKey": 0, "lastKey": 0, "step": 0, "acl": [ "@fast", "@connection" ], "tips": [], "keySpecs": [], "docs": { "summary": "Change the selected database for the current connection", "since": "1.0.0", "group": "connection", "complexity": "O(1)", "arguments": [ 
  { "name": "index", "type": "integer" } ] } }, 
  { "name": "quit", "arity": -1, "flags": [ "noscript", "loading", "stale", "fast", "no_auth", "allow_busy" ], "firstKey": 0, "lastKey": 0, "step": 0, "acl": [ "@fast", "@connection" ], "tips": [], "keySpecs": [], "docs": { "summary": "Close the connection", "since": "1.0.0", "group": "connection", "complexity": "O(1)" } }, 
  { "name": "hello", "arity": -1, "flags": [ "noscript", "loading", "stale", "fast", "no_auth", "allow_busy" ], "firstKey": 0, "lastKey": 0, "step": 0, "acl": [ "@fast", "@connection" ], "tips": [], "keySpecs": [], "docs": { "summary": "Handshake with Redis", "since": "6.0.0", "group": "connection", "complexity": "O(1)", "history": [ [ "6.2.0", "`protover` made optional; when called without arguments the command reports the current connection's context." ] ], "arguments": [ 
  { "name": "arguments", "type": "block", "flags": [ "optional" ], "arguments": [ 
  { "name": "protover", "type": "integer" }, 
  { "name": "username_password", "type": "block", "token": "AUTH", "flags": [ "optional" ], "arguments": [ 
  { "name": "username", "type": "string" }, 
  { "name": "password", "type": "string" } ] }, 
  { "name": "clientname", "type": "string", "token": "SETNAME", "flags": [ "optional" ] } ] } ] } }, 
  { "name": "auth", "arity": -2, "flags": [ "noscript", "loading", "stale", "fast", "no_auth", "allow_busy" ], "firstKey": 0, "lastKey": 0, "step": 0, "acl": [ "@fast", "@connection" ], "tips": [], "keySpecs": [], "docs": { "summary": "Authenticate to the server", "since": "1.0.0", "group": "connection", "complexity": "O(N) where N is the number of passwords defined for the user", "history": [ [ "6.0.0", "Added ACL style (username and password)." ] ], "arguments": [ 
  { "name": "username", "type": "string", "since": "6.0.0", "flags": [ "optional" ] }, 
  { "name": "password", "type": "string" } ] } }, 
  { "name": "client", "arity": -2, "flags": [], "firstKey": 0, "lastKey": 0, "step": 0, "acl": [ "@slow" ], "tips": [], "keySpecs": [], "docs": { "summary": "A container for client connection commands", "since": "2.4.0", "group": "connection", "complexity": "Depends on subcommand." }, "subcommands": [ 
  { "name": "client|setname", "arity": 3, "flags": [ "noscript", "loading", "stale" ], "firstKey": 0, "lastKey": 0, "step": 0, "acl": [ "@slow", "@connection" ], "tips": [], "keySpecs": [], "docs": { "summary": "Set the current connection name", "since": "2.6.9", "group": "connection", "complexity": "O(1)", "arguments": [ 
  { "name": "connection-name", "type": "string" } ] } }, 
  { "name": "client|getname", "arity": 2, "flags": [ "noscript", "loading", "stale" ], "firstKey": 0, "lastKey": 0, "step": 0, "acl": [ "@slow", "@connection" ], "tips": [], "keySpecs": [], "docs": { "summary": "Get the current connection name", "since": "2.6.9", "group": "connection", "complexity": "O(1)" } }, 
  { "name": "client|id", "arity": 2, "flags": [ "noscript", "loading", "stale" ], "firstKey": 0, "lastKey": 0, "step": 0, "acl": [ "@slow", "@connection" ], "tips": [], "keySpecs": [], "docs": { "summary": "Returns the client ID for the current connection", "since": "5.0.0", "group": "connection", "complexity": "O(1)" } }, 
  { "name": "client|help", "arity": 2, "flags": [ "loading", "stale" ], "firstKey": 0, "lastKey": 0, "step": 0, "acl": [ "@slow", "@connection" ], "tips": [], "keySpecs": [], "docs": { "summary": "Show helpful text about the different subcommands", "since": "5.0.0", "group": "connection", "complexity": "O(1)" } }, 
  { "name": "client|setinfo", "arity": 4, "flags": [ "noscript", "loading", "stale" ], "firstKey": 0, "lastKey": 0, "step": 0, "acl": [ "@slow", "@connection" ], "tips": [ "request_policy:all_nodes", "response_policy:all_succeeded" ], "keySpecs": [], "docs": { "summary": "Set client or connection specific info", "since": "7.2.0", "group": "connection", "complexity": "O(1)", "arguments": [ 
  { "name": "attr", "type": "oneof", "arguments": [ 
  { "name": "libname", "type": "string", "token": "LIB-NAME" }, 
  { "name": "libver", "type": "string", "token": "LIB-VER" } ] } ] } } ] }, 
  { "name": "info", "arity": -1, "flags": [ "loading", "stale" ], "firstKey": 0, "lastKey": 0, "step": 0, "acl": [ "@slow", "@dangerous" ], "tips": [ "nondeterministic_output", "request_policy:all_shards", "response_policy:special" ], "keySpecs": [], "docs": { "summary": "Get information and statistics about the server", "since": "1.0.0", "group": "server", "complexity": "O(1)", "history": [ [ "7.0.0", "Added support for taking multiple section arguments." ] ], "arguments": [ 
  { "name": "section", "type": "string", "flags": [ "optional", "multiple" ] } ] } }, 
  { "name": "command", "arity": -1, "flags": [ "loading", "stale" ], "firstKey": 0, "lastKey": 0, "step": 0, "acl": [ "@slow", "@connection" ], "tips": [ "nondeterministic_output_order" ], "keySpecs": [], "docs": { "summary": "Get array of Redis command details", "since": "2.8.13", "group": "server", "complexity": "O(N) where N is the total number of Redis commands" }, "subcommands": [ 
  { "name": "command|count", "arity": 2, "flags": [ "loading", "stale" ], "firstKey": 0, "lastKey": 0, "step": 0, "acl": [ "@slow", "@connection" ], "tips": [], "keySpecs": [], "docs": { "summary": "Get total number of Redis commands", "since": "2.8.13", "group": "server", "complexity": "O(1)" } }, 
  { "name": "command|info", "arity": -2, "flags": [ "loading", "stale" ], "firstKey": 0, "lastKey": 0, "step": 0, "acl": [ "@slow", "@connection" ], "tips": [ "nondeterministic_output_order" ], "keySpecs": [], "docs": { "summary": "Get array of specific Redis command details, or all when no argument is given.", "since": "2.8.13", "group": "server", "complexity": "O(N) where N is the number of commands to look up", "history": [ [ "7.0.0", "Allowed to be called with no argument to get info on all commands." ] ], "arguments": [ 
  { "name": "command-name", "type": "string", "flags": [ "optional", "multiple" ] } ] } }, 
  { "name": "command|docs", "arity": -2, "flags": [ "loading", "stale" ], "firstKey": 0, "lastKey": 0, "step": 0, "acl": [ "@slow", "@connection" ], "tips": [ "nondeterministic_output_order" ], "keySpecs": [], "docs": { "summary": "Get array of specific Redis command documentation", "since": "7.0.0", "group": "server", "complexity": "O(N) where N is the number of commands to look up", "arguments": [ 
  { "name": "command-name", "type": "string", "flags": [ "optional", "multiple" ] } ] } }, 
  { "name": "command|list", "arity": -2, "flags": [ "loading", "stale" ], "firstKey": 0, "lastKey": 0, "step": 0, "acl": [ "@slow", "@connection" ], "tips": [ "nondeterministic_output_order" ], "keySpecs": [], "docs": { "summary": "Get an array of Redis command names", "since": "7.0.0", "group": "server", "complexity": "O(N) where N is the total number of Redis commands", "arguments": [ 
  { "name": "filterby", "type": "oneof", "token": "FILTERBY", "flags": [ "optional" ], "arguments": [ 
  { "name": "module-name", "type": "string", "token": "MODULE" }, 
  { "name": "category", "type": "string", "token": "ACLCAT" }, 
  { "name": "pattern", "type": "pattern", "token": "PATTERN" } ] } ] } }, 
  { "name": "command|help", "arity": 2, "flags": [ "loading", "stale" ], "firstKey": 0, "lastKey": 0, "step": 0, "acl": [ "@slow", "@connection" ], "tips": [], "keySpecs": [], "docs": { "summary": "Show helpful text about the different subcommands", "since": "5.0.0", "group": "server", "complexity": "O(1)" } } ] }, 
  { "name": "config", "arity": -2, "flags": [], "firstKey": 0, "lastKey": 0, "step": 0, "acl": [ "@slow" ], "tips": [], "keySpecs": [], "docs": { "summary": "A container for server configuration commands", "since": "2.0.0", "group": "server", "complexity": "Depends on subcommand." }, "subcommands": [ 
  { "name": "config|get", "arity": -3, "flags": [ "admin", "noscript", "loading", "stale" ], "firstKey": 0, "lastKey": 0, "step": 0, "acl": [ "@admin", "@slow", "@dangerous" ], "tips": [], "keySpecs": [], "docs": { "summary": "Get the values of configuration parameters", "since": "2.0.0", "group": "server", "complexity": "O(N) when N is the number of configuration parameters provided", "history": [ [ "7.0.0", "Added the ability to pass multiple pattern parameters in one call" ] ], "arguments": [ 
  { "name": "parameter", "type": "block", "flags": [ "multiple" ], "arguments": [ 
  { "name": "parameter", "type": "string" } ] } ] } }, 
  { "name": "config|set", "arity": -4, "flags": [ "admin", "noscript", "loading", "stale" ], "firstKey": 0, "lastKey": 0, "step": 0, "acl": [ "@admin", "@slow", "@dangerous" ], "tips": [ "request_policy:all_nodes", "response_policy:all_succeeded" ], "keySpecs": [], "docs": { "summary": "Set configuration parameters to the given values", "since": "2.0.0", "group": "server", "complexity": "O(N) when N is the number of configuration parameters provided", "history": [ [ "7.0.0", "Added the ability to set multiple parameters in one call." ] ], "arguments": [ 
  { "name": "parameter_value", "type": "block", "flags": [ "multiple" ], "arguments": [ 
  { "name": "parameter", "type": "string" }, 
  { "name": "value", "type": "string" } ] } ] } }, 
  { "name": "config|resetstat", "arity": 2, "flags": [ "admin", "noscript", "loading", "stale" ], "firstKey": 0, "lastKey": 0, "step": 0, "acl": [ "@admin", "@slow", "@dangerous" ], "tips": [], "keySpecs": [], "docs": { "summary": "Reset the stats returned by INFO", "since": "2.0.0", "group": "server", "complexity": "O(1)" } }, 
  { "name": "config|rewrite", "arity": 2, "flags": [ "admin", "noscript", "loading", "stale" ], "firstKey": 0, "lastKey": 0, "step": 0, "acl": [ "@admin", "@slow", "@dangerous" ], "tips": [], "keySpecs": [], "docs": { "summary": "Rewrite the configuration file with the in memory configuration", "since": "2.8.0", "group": "server", "complexity": "O(1)" } }, 
  { "name": "config|help", "arity": 2, "flags": [ "loading", "stale" ], "firstKey": 0, "lastKey": 0, "step": 0, "acl": [ "@slow" ], "tips": [], "keySpecs": [], "docs": { "summary": "Show helpful text about the different subcommands", "since": "5.0.0", "group": "server", "complexity": "O(1)" } } ] }, 
  { "name": "acl", "arity": -2, "flags": [], "firstKey": 0, "lastKey": 0, "step": 0, "acl": [ "@slow" ], "tips": [], "keySpecs": [], "docs": { "summary": "A container for Access List Control commands ", "since": "6.0.0", "group": "server", "complexity": "Depends on subcommand." }, "subcommands": [ 
  { "name": "acl|whoami", "arity": 2, "flags": [ "noscript", "loading", "stale" ], "firstKey": 0, "lastKey": 0, "step": 0, "acl": [ "@slow" ], "tips": [], "keySpecs": [], "docs": { "summary": "Return the name of the user associated to the current connection", "since": "6.0.0", "group": "server", "complexity": "O(1)" } }, 
  { "name": "acl|load", "arity": 2, "flags": [ "admin", "noscript", "loading", "stale" ], "firstKey": 0, "lastKey": 0, "step": 0, "acl": [ "@admin", "@slow", "@dangerous" ], "tips": [], "keySpecs": [], "docs": { "summary": "Reload the ACLs from the configured ACL file", "since": "6.0.0", "group": "server", "complexity": "O(N). Where N is the number of configured users." } } ] } ];
