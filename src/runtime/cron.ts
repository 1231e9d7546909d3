// Cron schedules of Build Output API deployments (`crons` in config.json), as Vercel reads them: five fields
// (minute hour day-of-month month day-of-week) in UTC, each `*`, a number, a range `a-b`, a step `*/n` or `a-b/n`,
// or a list of those; day-of-week 0-7 with 0 and 7 for Sunday; no names, no seconds, no macros. When both day
// fields are restricted, a time matches either of them (the classic cron rule).

export interface Schedule {
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number>;
  months: Set<number>;
  weekdays: Set<number>;
  /** The day-of-month and day-of-week fields were both restricted: either matching is enough. */
  eitherDay: boolean;
}

const FIELDS = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12 },
  { name: "day of week", min: 0, max: 7 },
] as const;

function parseField(text: string, field: (typeof FIELDS)[number]): Set<number> | string {
  const out = new Set<number>();
  for (const part of text.split(",")) {
    const match = /^(\*|(\d{1,2})(?:-(\d{1,2}))?)(?:\/(\d{1,2}))?$/.exec(part);
    if (!match) return `the ${field.name} field "${text}" is not a number, range, step or list`;
    const [, all, from, to, step] = match;
    const start = all === "*" ? field.min : Number(from);
    const end =
      all === "*" ? field.max : to !== undefined ? Number(to) : step !== undefined ? field.max : start;
    const by = step === undefined ? 1 : Number(step);
    if (start < field.min || end > field.max || start > end || by < 1)
      return `the ${field.name} field "${text}" is outside ${field.min}-${field.max}`;
    for (let value = start; value <= end; value += by) out.add(value);
  }
  return out;
}

/** A schedule, or why the expression cannot be one. */
export function parseSchedule(expression: string): Schedule | string {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5) return `"${expression}" must have five fields (minute hour day month weekday)`;
  const sets: Set<number>[] = [];
  for (const [i, field] of FIELDS.entries()) {
    const parsed = parseField(parts[i] ?? "", field);
    if (typeof parsed === "string") return parsed;
    sets.push(parsed);
  }
  const [minutes, hours, days, months, weekdays] = sets as [
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
  ];
  if (weekdays.has(7)) weekdays.add(0);
  return { minutes, hours, days, months, weekdays, eitherDay: parts[2] !== "*" && parts[4] !== "*" };
}

/** Whether the schedule fires in the UTC minute that starts at `at`. */
export function firesAt(schedule: Schedule, at: Date): boolean {
  if (!schedule.minutes.has(at.getUTCMinutes()) || !schedule.hours.has(at.getUTCHours())) return false;
  if (!schedule.months.has(at.getUTCMonth() + 1)) return false;
  const day = schedule.days.has(at.getUTCDate());
  const weekday = schedule.weekdays.has(at.getUTCDay());
  return schedule.eitherDay ? day || weekday : day && weekday;
}

/** The first minute strictly after `after` at which the schedule fires (within four years), or null. */
export function nextFire(schedule: Schedule, after: Date): Date | null {
  const at = new Date(Math.floor(after.getTime() / 60_000) * 60_000 + 60_000);
  for (let i = 0; i < 4 * 366 * 24 * 60; i++) {
    if (firesAt(schedule, at)) return at;
    // Skip whole hours and days that cannot match: the search stays cheap for yearly schedules.
    if (!schedule.hours.has(at.getUTCHours()) || !schedule.months.has(at.getUTCMonth() + 1))
      at.setUTCMinutes(60, 0, 0);
    else at.setUTCMinutes(at.getUTCMinutes() + 1, 0, 0);
  }
  return null;
}
