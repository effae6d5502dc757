// The reliability scenarios: 1–11 of issue 9, 12–19 of issue 15, 20 of issue 22, 21 of issue 23, 22 of issue 25, in number order.
import type { Scenario } from '../harness.js';
import { abrupt } from './abrupt.js';
import { access } from './access.js';
import { boundaries } from './boundaries.js';
import { expiry } from './expiry.js';
import { hostile } from './hostile.js';
import { consumer, flood, slowloris } from './limits.js';
import { listFlood } from './list-flood.js';
import { memory } from './memory.js';
import { renewStorm } from './renew-storm.js';
import { resilience } from './resilience.js';
import { resp } from './resp.js';
import { secure } from './secure.js';
import { fdExhaustion, handshakeCost, loiterers, outputMemory } from './server-limits.js';
import { secureSizes } from './secure-sizes.js';
import { shutdown } from './shutdown.js';
import { snapshot } from './snapshot.js';
import { streaming } from './streaming.js';

export const scenarios: Scenario[] = [hostile, boundaries, slowloris, flood, consumer, memory, abrupt, shutdown, resilience, expiry, secure, outputMemory, loiterers, handshakeCost, fdExhaustion, renewStorm, secureSizes, listFlood, streaming, snapshot, resp, access].sort((x, y) => x.number - y.number);
