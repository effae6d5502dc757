// One process of the near cache's multi-process model test (issue 21): runs the plan given as
// JSON in argv[2] (see test/support/near-model.mjs) with the built client (dist/) against
// 127.0.0.1 and prints its history as one JSON line. Infinity (a write that never resolved)
// travels as null.
import { ConduitClient } from '../../../dist/index.js';
import { runAgent } from '../../support/near-model.mjs';

const { port, plan } = JSON.parse(process.argv[2] ?? '{}');
const history = await runAgent(ConduitClient, port, plan);
process.stdout.write(`${JSON.stringify(history, (_k, v) => (v === Infinity ? null : v))}\n`);
