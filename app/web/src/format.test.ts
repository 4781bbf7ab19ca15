import { describe, expect, it } from 'vitest';
import { addMinutes, clock, longDate, minutes, shortDate } from './format';

describe('format', () => {
  it('reads local wall-clock times without the browser time zone', () => {
    expect(clock('2026-12-01T03:55:00', '2026-12-01')).toBe('03:55');
    expect(clock(null)).toBe('—');
  });
  it('says when the wake-up falls on the day before the shooting day', () => {
    expect(clock('2026-11-30T23:40:00', '2026-12-01')).toBe('23:40 (day before)');
  });
  it('adds minutes across midnight, month and year ends', () => {
    expect(addMinutes('2026-12-01T04:40:00', 20)).toBe('2026-12-01T05:00:00');
    expect(addMinutes('2026-12-31T23:50:00', 15)).toBe('2027-01-01T00:05:00');
    expect(addMinutes('2026-03-01T00:10:00', -20)).toBe('2026-02-28T23:50:00');
  });
  it('names weekdays from the date alone', () => {
    expect(longDate('2026-12-01')).toBe('Tuesday, 1 December 2026');
    expect(shortDate('2028-02-29')).toBe('Tue 29 Feb');
  });
  it('writes durations for people', () => {
    expect(minutes(55)).toBe('55 min');
    expect(minutes(125)).toBe('2 h 5 min');
  });
});
