// A small argv parser: positionals plus --flag, --flag=value and --flag value; unknown flags are errors.

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export interface FlagSpec {
  /** Flags that take a value (--name value or --name=value). */
  values?: readonly string[];
  /** Flags that are switches (--name). */
  switches?: readonly string[];
}

export interface Parsed {
  positionals: string[];
  values: Record<string, string>;
  switches: Set<string>;
}

export function parseArgs(argv: readonly string[], spec: FlagSpec): Parsed {
  const values: Record<string, string> = {};
  const switches = new Set<string>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = (eq > 0 ? arg.slice(0, eq) : arg).replace(/^--?/, "");
    const canonical = name === "h" ? "help" : name === "v" ? "version" : name;
    if (spec.values?.includes(canonical)) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`--${canonical} needs a value`);
      values[canonical] = value;
    } else if (spec.switches?.includes(canonical) || canonical === "help" || canonical === "version") {
      if (eq > 0) throw new UsageError(`--${canonical} takes no value`);
      switches.add(canonical);
    } else {
      throw new UsageError(`unknown option ${arg.slice(0, eq > 0 ? eq : undefined)}`);
    }
  }
  return { positionals, values, switches };
}
