// Byte counts for people: build logs, CLI progress, backups, the dashboard.

const MB = 1024 * 1024;

/** 512 B, 1.5 KB, 3.2 MB: one decimal from a kilobyte up. */
export function formatBytes(n: number): string {
  if (n >= MB) return `${(n / MB).toFixed(1)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${n} B`;
}
