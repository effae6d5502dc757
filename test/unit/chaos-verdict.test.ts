import { describe, expect, it } from 'vitest';
import { Findings } from '../chaos/harness.js';

describe('chaos report verdict', () => {
  const findings = (): Findings => {
    const f = new Findings();
    f.expect('every request answered', true);
    f.expectTiming('p99 within 2x of control', false);
    return f;
  };

  it('a quick run that passes does not print "missed" for a timing check it does not enforce', () => {
    expect(findings().verdict(true)).toBe('met (timing not checked in quick mode: p99 within 2x of control)');
  });

  it('a full run reports the missed timing check', () => {
    expect(findings().verdict(false)).toBe('**missed**: p99 within 2x of control');
  });

  it('a quick run still reports a correctness check it missed, and an unfinished run', () => {
    const f = findings();
    f.expect('server alive', false);
    expect(f.verdict(true, ['did not finish'])).toBe(
      '**missed**: server alive; did not finish (timing not checked in quick mode: p99 within 2x of control)',
    );
  });

  it('all met is "met"', () => {
    const f = new Findings();
    f.expectTiming('fast', true);
    expect([f.verdict(true), f.verdict(false)]).toEqual(['met', 'met']);
  });
});
