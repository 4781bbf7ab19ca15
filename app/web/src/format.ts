// Display helpers. Dates and times from the server are local to the shooting location, so they
// are formatted from their parts, never through the browser's time zone.
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

function parts(date: string): [number, number, number] {
  const [y, m, d] = date.slice(0, 10).split('-').map(Number);
  return [y, m, d];
}

export function longDate(date: string): string {
  const [y, m, d] = parts(date);
  const wd = new Date(Date.UTC(y, m - 1, d)).getUTCDay();
  return `${WEEKDAYS[wd]}, ${d} ${MONTHS[m - 1]} ${y}`;
}

export function shortDate(date: string): string {
  const [, m, d] = parts(date);
  const [y, mm, dd] = parts(date);
  const wd = new Date(Date.UTC(y, mm - 1, dd)).getUTCDay();
  return `${WEEKDAYS[wd].slice(0, 3)} ${d} ${MONTHS[m - 1].slice(0, 3)}`;
}

/** "HH:MM" of a local date-time, with a note when it falls on another day than `day`. */
export function clock(dateTime: string | null | undefined, day?: string): string {
  if (!dateTime) return '—';
  const hhmm = dateTime.slice(11, 16);
  if (day && dateTime.slice(0, 10) < day.slice(0, 10)) return `${hhmm} (day before)`;
  return hhmm;
}

export function addMinutes(dateTime: string, minutes: number): string {
  const [y, m, d] = parts(dateTime);
  const [hh, mi] = dateTime.slice(11, 16).split(':').map(Number);
  const t = new Date(Date.UTC(y, m - 1, d, hh, mi) + minutes * 60_000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${t.getUTCFullYear()}-${p(t.getUTCMonth() + 1)}-${p(t.getUTCDate())}T${p(t.getUTCHours())}:${p(t.getUTCMinutes())}:00`;
}

export function minutes(n: number): string {
  if (n < 60) return `${n} min`;
  return `${Math.floor(n / 60)} h ${n % 60} min`;
}
