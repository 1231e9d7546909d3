// `minivercel doctor`: what one check is, running them all at once (each within a time limit), and the report.

/** ok: works. warn: works, with a weakness worth knowing. fail: does not work (exit 1). skip: not checked. */
export type Status = "ok" | "warn" | "fail" | "skip";

export interface Result {
  status: Status;
  /** What was found, in a few words. */
  detail: string;
  /** For warn and fail: the command to run or the setting to change. */
  fix?: string;
}

export interface Check {
  /** A short label: "sandbox programs", "port 9000 (api)", "Postgres". */
  name: string;
  run(): Result | Promise<Result>;
}

export const ok = (detail: string): Result => ({ status: "ok", detail });
export const warn = (detail: string, fix: string): Result => ({ status: "warn", detail, fix });
export const fail = (detail: string, fix: string): Result => ({ status: "fail", detail, fix });
export const skip = (detail: string): Result => ({ status: "skip", detail });

/** The message of anything thrown, on one line. */
export function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s+/g, " ").trim() || (error instanceof Error ? error.name : "unknown error");
}

/** Runs every check at once; a check that throws fails, one slower than `limitMs` fails as not answering. */
export async function runChecks(checks: Check[], limitMs: number): Promise<Result[]> {
  return Promise.all(
    checks.map(async (check) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<Result>((resolve) => {
        timer = setTimeout(
          () =>
            resolve(
              fail(
                `no answer within ${limitMs / 1000} s`,
                "check that it is running and reachable from here",
              ),
            ),
          limitMs,
        );
      });
      try {
        return await Promise.race([Promise.resolve().then(() => check.run()), late]);
      } catch (error) {
        return fail(messageOf(error), "see the message; 'minivercel doctor --help' lists what is checked");
      } finally {
        clearTimeout(timer);
      }
    }),
  );
}

const LABEL: Record<Status, string> = { ok: "ok  ", warn: "WARN", fail: "FAIL", skip: "skip" };

/** One line per check: status, name, what was found, and for a problem `; fix: ...`. */
export function formatLine(name: string, result: Result, width: number): string {
  const fix =
    result.fix && (result.status === "fail" || result.status === "warn") ? `; fix: ${result.fix}` : "";
  return `${LABEL[result.status]}  ${name.padEnd(width)}  ${result.detail}${fix}`;
}

/** The last line: how many failed, or that all passed. */
export function summary(results: Result[]): string {
  const failed = results.filter((r) => r.status === "fail").length;
  const warned = results.filter((r) => r.status === "warn").length;
  const checked = results.filter((r) => r.status !== "skip").length;
  if (failed > 0)
    return `${failed} of ${checked} checks failed: fix them (each line says how), then run 'minivercel doctor' again.`;
  return `All ${checked} checks passed${warned > 0 ? ` (${warned} with a warning)` : ""}.`;
}
