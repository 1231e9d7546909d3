// The backup and restore commands: argv -> createBackup / restoreBackup for the embedded mode's data directory.

import { parseArgs, UsageError } from "../cli/args.ts";
import { type Config, type Env, loadConfig } from "../config/config.ts";
import { VERSION } from "../config/version.ts";
import { badRequest } from "../errors.ts";
import { formatBytes } from "../utils/bytes.ts";
import type { Output } from "./meter.ts";

export const BACKUP_HELP: Record<"backup" | "restore", string> = {
  backup: `Usage: minivercel backup <file> [--data DIR]

  Writes a consistent snapshot of the data directory (databases, deployed files, push-to-deploy
  repositories, the secret key) to <file> as a .tar.gz, while the server keeps running. Embedded
  mode only; for Postgres, ClickHouse and S3/R2 see docs/operations.md "Backups".
  --data   data directory (default ./data; env MINIVERCEL_DATA)`,
  restore: `Usage: minivercel restore <file> [--data DIR] [--force]

  Checks a backup completely, then restores it into the data directory, which must be empty or
  absent and not in use by a running server. Start 'minivercel serve' on it afterwards.
  --data    data directory (default ./data; env MINIVERCEL_DATA)
  --force   replace a non-empty data directory; its contents are moved to <DIR>.before-restore-<time>`,
};

/** Backups copy files of the embedded backends; a server on scale-out backends is backed up with their tools. */
function assertEmbedded(config: Config, command: string): void {
  const scaled = [
    config.store.kind === "postgres" && "Postgres (DATABASE_URL)",
    config.clickhouse && "ClickHouse (CLICKHOUSE_URL / CLICKHOUSE_HOST)",
    config.s3 && "S3/R2 (S3_BUCKET / R2_BUCKET_NAME)",
  ].filter((s): s is string => typeof s === "string");
  if (scaled.length > 0) {
    throw badRequest(
      `${command} covers the embedded mode only, and this configuration uses ${scaled.join(", ")}; see docs/operations.md "Backups" for the scaled-mode procedure`,
    );
  }
}

const stderr: Output = {
  isTTY: process.stderr.isTTY === true,
  write: (text) => void process.stderr.write(text),
};

/** Runs `backup` or `restore`; usage problems throw UsageError, the rest AppError (main maps both to exit 2). */
export async function runBackupCommand(command: "backup" | "restore", argv: string[], env: Env) {
  const args = parseArgs(argv, {
    values: ["data"],
    switches: command === "restore" ? ["force"] : [],
  });
  if (args.switches.has("help")) {
    console.log(BACKUP_HELP[command]);
    return 0;
  }
  if (args.switches.has("version")) {
    console.log(VERSION);
    return 0;
  }
  const [file, extra] = args.positionals;
  if (!file) throw new UsageError(`give the backup file: minivercel ${command} <file>`);
  if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
  const config = loadConfig(env, { data: args.values.data });
  assertEmbedded(config, command);
  const secretKeyFromEnv = config.secretKey !== null;
  if (command === "backup") {
    const { createBackup } = await import("./backup.ts");
    const done = await createBackup({ dataDir: config.dataDir, file, secretKeyFromEnv, out: stderr });
    console.log(
      `backup of ${config.dataDir} written to ${done.file} (${done.files} files, ${formatBytes(done.archiveBytes)})`,
    );
    if (secretKeyFromEnv)
      stderr.write(
        "note: env vars are encrypted with MINIVERCEL_SECRET_KEY, which is not in the backup: keep it with it\n",
      );
    return 0;
  }
  const { restoreBackup } = await import("./restore.ts");
  const done = await restoreBackup({
    file,
    dataDir: config.dataDir,
    force: args.switches.has("force"),
    secretKeyFromEnv,
    out: stderr,
  });
  console.log(
    `restored ${done.files} files into ${done.dataDir} (backup of ${done.header.createdAt}, minivercel ${done.header.minivercelVersion})`,
  );
  if (done.previous) console.log(`the directory's previous contents are in ${done.previous}`);
  for (const note of done.notes) stderr.write(`note: ${note}\n`);
  return 0;
}
