import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTomlFile } from '../../src/config/toml.js';
import { formatDurationLimit, formatSizeLimit, parseBytes, parseDuration } from '../../src/config/units.js';

describe('units', () => {
  it.each([
    ['1048576', 1_048_576],
    ['64mb', 64 * 1024 ** 2],
    ['512KB', 512 * 1024],
    [' 1g ', 1024 ** 3],
    ['1.5k', 1536],
  ])('parseBytes(%j) is %d', (text, bytes) => {
    expect(parseBytes(text, '--max-memory')).toBe(bytes);
  });

  it('parseBytes names what it read when the text is no size', () => {
    expect(() => parseBytes('lots', '--max-memory')).toThrow("--max-memory must be a size like 64mb, 512kb or 1gb, got 'lots'");
    expect(() => parseBytes('99999999999gb', 'CONDUIT_MAX_MEMORY')).toThrow("CONDUIT_MAX_MEMORY is too large: '99999999999gb'");
  });

  it.each([
    ['0', 0],
    ['250', 250],
    ['500ms', 500],
    ['10s', 10_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
  ])('parseDuration(%j) is %d ms', (text, ms) => {
    expect(parseDuration(text, '--frame-timeout')).toBe(ms);
  });

  it('parseDuration names what it read when the text is no duration', () => {
    expect(() => parseDuration('10 years', 'ttl')).toThrow("ttl must be a duration like 10s, 500ms or 5m, got '10 years'");
  });

  it('limits are written in the unit the user wrote', () => {
    expect(formatDurationLimit(2_147_483_647, '900h', 'max')).toBe('596h (2147483647 ms)');
    expect(formatDurationLimit(1, '0s', 'min')).toBe('1 ms');
    expect(formatDurationLimit(2_147_483_647, '9999999999', 'max')).toBe('2147483647 ms');
    expect(formatSizeLimit(65_536)).toBe('64kb (65536 bytes)');
    expect(formatSizeLimit(1000)).toBe('1000 bytes');
  });
});

describe('readTomlFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'conduit-toml-'));

  it('returns the top-level table', () => {
    const file = join(dir, 'ok.toml');
    writeFileSync(file, 'port = 7171\nmax-memory = "512mb"\n');
    expect(readTomlFile(file, 'config')).toEqual({ port: 7171, 'max-memory': '512mb' });
  });

  it('says which file could not be read or parsed, in one line', () => {
    const bad = join(dir, 'bad.toml');
    writeFileSync(bad, 'port = = 1\n');
    expect(() => readTomlFile(bad, 'config')).toThrow(new RegExp(`^cannot read config ${bad}: [^\\n]+$`));
    expect(() => readTomlFile(join(dir, 'missing.toml'), 'key file')).toThrow(`cannot read key file ${join(dir, 'missing.toml')}: ENOENT`);
  });
});
