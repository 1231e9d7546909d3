// Config of preview images: the headless browser that captures a READY deployment's front page (the worker role).

import { existsSync } from "node:fs";
import { isAbsolute } from "node:path";
import { ConfigError } from "../errors.ts";
import { type Env, int, text } from "./parse.ts";

export interface PreviewConfig {
  /**
   * The Chromium (or Chrome) executable (SCREENSHOT_BROWSER): an absolute path, or "off"; unset: chromium,
   * chromium-browser or google-chrome found on PATH, else off. null: no preview images are captured.
   */
  browser: string | null;
  /** Wall time of one capture, browser start included (SCREENSHOT_TIMEOUT_SECONDS). */
  timeoutSeconds: number;
  /** Memory of the browser's sandbox (SCREENSHOT_MEMORY_MB). */
  memoryMb: number;
}

const ON_PATH = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

export function parsePreview(env: Env): PreviewConfig {
  return {
    browser: browser(env),
    timeoutSeconds: int(env, "SCREENSHOT_TIMEOUT_SECONDS", 45, 5, 600),
    memoryMb: int(env, "SCREENSHOT_MEMORY_MB", 1024, 256, 64 * 1024),
  };
}

function browser(env: Env): string | null {
  const value = text(env, "SCREENSHOT_BROWSER");
  if (value === "off") return null;
  if (value === null) {
    const path = text(env, "PATH");
    if (path === null) return null;
    for (const name of ON_PATH) {
      const found = Bun.which(name, { PATH: path });
      if (found !== null) return found;
    }
    return null;
  }
  if (!isAbsolute(value))
    throw new ConfigError("SCREENSHOT_BROWSER", `must be an absolute path or "off", got '${value}'`);
  if (!existsSync(value))
    throw new ConfigError("SCREENSHOT_BROWSER", `${value} does not exist (or set it to "off")`);
  return value;
}
