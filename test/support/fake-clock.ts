/** A monotonic millisecond clock the test moves by hand. */
export class FakeClock {
  now = 1_000;
  readonly read = (): number => this.now;
  advance(ms: number): void {
    this.now += ms;
  }
}
