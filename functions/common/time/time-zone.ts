/** IANA time zone checks, using the runtime's ICU data. */

/** True when `zone` is an IANA time zone name the runtime knows (e.g. `Europe/Paris`, `UTC`). */
export function isValidTimeZone(zone: string): boolean {
  if (zone.trim() === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
