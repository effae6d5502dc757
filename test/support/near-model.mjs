// The near cache's model test (issue 21), shared by the one-process test and the child-process
// agents (test/property/agents/near-model-agent.mjs): clients with near caches run planned
// reads and writes against a real server, recording a history on one clock (process.hrtime,
// CLOCK_MONOTONIC: the same in every process of the machine), and `checkHistory` checks it
// against a reference. Plain JavaScript so a child can run it on dist/ while the one-process
// test runs it on src/ (the client class is passed in). Types: near-model.d.mts.
//
// What "B has received the invalidation for a write" means, and why it is checked two ways:
// - Checked reads: B sends a fence (HEALTH) after the writes it must see have resolved. The
//   fence executes after them, and spec §3.15 queues each push at its change in B's answer
//   order, so when the fence answers, B has received every push those writes caused. B's next
//   read then must not return a value that one of those writes overwrote. This holds under any
//   concurrency, which an 'invalidate' event alone cannot say (an event for key k may be for
//   an earlier write of k while a read of k is in flight).
// - The watcher: one client holds a key nobody else touches but one writer, which writes it
//   in sequence; each 'invalidate' event for it is then the push of the first write after the
//   watcher's last read, so its next read must return that write's value or a later one. That
//   pairing also gives the invalidation delay (writer's write resolved -> watcher's event).

const now = () => Number(process.hrtime.bigint() / 1000n); // microseconds

/** Runs `plan` with `ConduitClient` against 127.0.0.1:`port`; resolves the history. */
export async function runAgent(ConduitClient, port, plan) {
  const { agent, prefix, ops, watch } = plan;
  const options = { port, requestTimeoutMs: 20_000, ...(plan.clientOptions ?? {}) };
  const clients = ops.map(() => new ConduitClient({ ...options, nearCache: plan.nearCache ?? {} }));
  const history = { writes: [], reads: [], watch: [], errors: [] };
  const keyOf = (i) => `${prefix}${i}`;
  let seq = 0;
  try {
    await Promise.all(clients.map((c) => c.connect()));
    const run = async (c, ci) => {
      const who = `${agent}:${ci}`;
      const inflight = [];
      for (const op of ops[ci]) {
        const key = keyOf(op.key);
        let p;
        if (op.kind === 'set' || op.kind === 'delete') {
          const value = op.kind === 'set' ? `${who}:${(seq += 1)}` : null;
          const w = { key, kind: op.kind, value, who, sent: now(), resolved: Infinity };
          history.writes.push(w);
          p = (op.kind === 'set' ? c.set(key, value) : c.delete(key)).then(() => {
            w.resolved = now();
          });
        } else if (op.kind === 'renew') {
          p = c.renew(key, 600_000);
        } else if (op.kind === 'gat') {
          const started = now();
          p = c.getAndTouch(key, 600_000).then((v) => {
            history.reads.push({ key, who, value: v === undefined ? null : v.toString(), started, fence: -Infinity });
          });
        } else {
          const checked = op.kind === 'checked';
          p = (async () => {
            const fence = now();
            if (checked) await c.health();
            const started = now();
            const v = await c.get(key);
            history.reads.push({ key, who, value: v === undefined ? null : v.toString(), started, fence: checked ? fence : -Infinity });
          })();
        }
        const tracked = p.catch((err) => history.errors.push(`${who} ${op.kind} ${key}: ${err.code ?? err.message}`));
        if (op.wait) await tracked;
        else inflight.push(tracked);
        for (let i = 0; i < op.pause; i += 1) await new Promise((resolve) => setImmediate(resolve));
      }
      await Promise.all(inflight);
    };
    const work = Promise.all(clients.map((c, ci) => run(c, ci)));
    if (watch !== undefined) await Promise.all([work, runWatch(ConduitClient, options, watch, history)]);
    else await work;
  } finally {
    for (const c of clients) c.destroy();
  }
  for (const c of clients) history.hits = (history.hits ?? 0) + c.nearCacheStats().hits;
  return history;
}

/**
 * A writer writes `watch.key` `watch.writes` times in sequence while a watcher holding it waits
 * for each push, then reads again. Records each write (index, resolved) and each event (time,
 * and the index the watcher had read before it, so the event is the push of write index + 1).
 */
async function runWatch(ConduitClient, options, watch, history) {
  const writer = new ConduitClient({ ...options, ...(watch.writerOptions ?? {}) });
  const watcher = new ConduitClient({ ...options, nearCache: {} });
  const key = watch.key;
  const writes = [];
  const events = [];
  let lastRead = -1;
  let waiter;
  watcher.on('invalidate', (keys) => {
    if (keys !== 'all' && !keys.some((k) => k.toString() === key)) return;
    events.push({ at: now(), after: lastRead });
    waiter?.();
  });
  const index = (v) => (v === undefined ? -1 : Number(v.toString().split(':').pop()));
  try {
    await writer.set(key, `${key}:0`);
    writes.push({ index: 0, resolved: now() });
    lastRead = index(await watcher.get(key));
    for (let i = 1; i <= watch.writes; i += 1) {
      const seen = new Promise((resolve) => {
        waiter = resolve;
      });
      const before = events.length; // the push may reach the watcher before the writer's answer
      await writer.set(key, `${key}:${i}`);
      writes.push({ index: i, resolved: now() });
      // The watcher held the key (it read it after the last push), so this write is pushed to it.
      let timer;
      await Promise.race([seen, new Promise((resolve) => (timer = setTimeout(resolve, 10_000)))]);
      clearTimeout(timer);
      waiter = undefined;
      const read = index(await watcher.get(key));
      const event = events.length > before ? events.at(-1) : undefined; // none: the push never came
      history.watch.push({ write: i, read, eventAfter: event?.after ?? null, eventAt: event?.at ?? null });
      lastRead = read;
      if (watch.gapMs > 0) await new Promise((resolve) => setTimeout(resolve, watch.gapMs));
    }
  } finally {
    writer.destroy();
    watcher.destroy();
  }
  history.watchWrites = writes;
}

/**
 * The violations in a merged history (an empty list when it is correct). A read returns the
 * value of some write, or nothing; it is wrong when it returns a value that a write it must
 * see overwrote: one resolved before the read's fence was sent (checked reads), or one of the
 * reader's own resolved before the read started. "Overwrote" is happens-before: the old write
 * resolved before the newer one was sent. Watcher rounds are checked by their pairing.
 */
export function checkHistory(h) {
  const problems = [...h.errors];
  const byKey = new Map();
  const byValue = new Map();
  for (const w of h.writes) {
    if (!byKey.has(w.key)) byKey.set(w.key, []);
    byKey.get(w.key).push(w);
    if (w.value !== null) byValue.set(w.value, w);
  }
  for (const r of h.reads) {
    const writes = byKey.get(r.key) ?? [];
    const mustSee = writes.filter((w) => w.resolved < r.fence || (w.who === r.who && w.resolved < r.started));
    if (r.value !== null) {
      const wv = byValue.get(r.value);
      if (wv === undefined || wv.key !== r.key) {
        problems.push(`${r.who} read ${r.key} = ${r.value}, which no write wrote`);
        continue;
      }
      const newer = mustSee.find((w) => w !== wv && wv.resolved < w.sent);
      if (newer !== undefined) problems.push(`${r.who} read ${r.key} = ${r.value} after ${newer.kind} ${newer.value ?? ''} by ${newer.who} overwrote it`);
    } else {
      const deletes = writes.filter((w) => w.kind === 'delete');
      const set = mustSee.find((w) => w.kind === 'set' && deletes.every((d) => d.resolved < w.sent));
      if (set !== undefined) problems.push(`${r.who} read ${r.key} as absent after ${set.value} was stored and no delete could follow it`);
    }
  }
  for (const round of h.watch ?? []) {
    if (round.eventAt === null) problems.push(`watcher: no invalidation for write ${round.write}`);
    else if (round.read < round.write) problems.push(`watcher: read index ${round.read} after the push of write ${round.write}`);
  }
  return problems;
}

/** Invalidation delays (µs): each watcher event minus the resolve time of the write it is the push of. */
export function delays(h) {
  const resolved = new Map((h.watchWrites ?? []).map((w) => [w.index, w.resolved]));
  const out = [];
  for (const round of h.watch ?? []) {
    if (round.eventAt === null || round.eventAfter === null) continue;
    const at = resolved.get(round.eventAfter + 1);
    if (at !== undefined) out.push(round.eventAt - at);
  }
  return out;
}

/** The p-th percentile (0–100) of `values`, or null for none. */
export function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
