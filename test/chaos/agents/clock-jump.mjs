// Preloaded into conduit-server by the expiry scenario (issue 9, §10) with
// NODE_OPTIONS=--import: on SIGUSR2 it shifts the process's wall clock (Date)
// by the number of milliseconds written in CHAOS_CLOCK_FILE, as an NTP step
// or an operator's `date -s` would. The monotonic clock (performance.now,
// timers) is left alone, as it is by a real step.
import { readFileSync } from 'node:fs';

const file = process.env.CHAOS_CLOCK_FILE;
const RealDate = Date;
const realNow = Date.now.bind(Date);
let offsetMs = 0;

class SteppedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(realNow() + offsetMs);
    else super(...args);
  }

  static now() {
    return realNow() + offsetMs;
  }
}

globalThis.Date = SteppedDate;
process.on('SIGUSR2', () => {
  offsetMs = Number(readFileSync(file, 'utf8'));
});
