/** The fields a watermark template may name. */
export interface WatermarkSubject {
  displayName: string;
  name: string;
  email?: string | undefined;
}

/**
 * A watermark template filled in for one person at one time: `{name}` (display name), `{user}` (sign-in name),
 * `{email}` and `{date}` (YYYY-MM-DD, UTC). Unknown placeholders stay as written; the result is plain text, at most
 * 200 characters (editors draw it across the page).
 */
export function renderWatermark(template: string, who: WatermarkSubject, now: number): string {
  const values: Record<string, string> = {
    name: who.displayName,
    user: who.name,
    email: who.email ?? '',
    date: new Date(now).toISOString().slice(0, 10),
  };
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => values[key] ?? whole).slice(0, 200);
}
