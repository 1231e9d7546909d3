// Test support for the dashboard in Debian's chromium: launch it as ARCHITECTURE.md says, take screenshots
// into test-artifacts/, and watch pages for console errors and failed requests.

import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
export const SHOTS = join(import.meta.dir, "../../test-artifacts/screenshots");
/** Screenshots a reviewer reads in the repository (the README and docs link them). */
export const DOC_IMAGES = join(import.meta.dir, "../../docs/images");

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: run 'bash scripts/services.sh chromium'`);
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
    ],
  });
}

/** A full-page screenshot in test-artifacts/screenshots/<name>.png; returns its path. */
export async function shot(p: Page, name: string): Promise<string> {
  // From the top, so the sticky header is not painted mid-page.
  await p.evaluate(() => window.scrollTo(0, 0));
  const path = join(SHOTS, `${name}.png`);
  await p.screenshot({ path, fullPage: true });
  return path;
}

/** A screenshot kept in docs/images/<name>.png (the viewport, or the whole page with `fullPage`). */
export async function docShot(p: Page, name: string, fullPage = false): Promise<string> {
  await p.evaluate(() => window.scrollTo(0, 0));
  // Into test-artifacts/ like every screenshot, so a test run leaves the repository as it was; with
  // MINIVERCEL_DOC_IMAGES=1 into docs/images, to refresh the ones the README and docs show.
  const dir = process.env.MINIVERCEL_DOC_IMAGES === "1" ? DOC_IMAGES : join(SHOTS, "docs");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await p.screenshot({ path, fullPage });
  return path;
}

/**
 * Records what a visitor would see go wrong on `page`: console errors, uncaught exceptions, failed requests
 * and answers of 400 or more. `expected(url, status)` lets through the answers a test asked for (a 404 page).
 * Requests the browser aborts because the page navigated away (an open event stream) are not failures.
 */
export function watchProblems(page: Page, expected: (url: string, status: number) => boolean = () => false) {
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    const { url } = message.location();
    // Chromium reports every answer >= 400 in the console too; those are judged by the response check below.
    if (message.text().startsWith("Failed to load resource") && url) return;
    problems.push(`console: ${message.text()} (${url})`);
  });
  page.on("pageerror", (error) => problems.push(`exception: ${error.message}`));
  page.on("requestfailed", (request) => {
    const reason = request.failure()?.errorText ?? "";
    if (reason === "net::ERR_ABORTED") return;
    problems.push(`failed: ${request.method()} ${request.url()} ${reason}`);
  });
  page.on("response", (response) => {
    if (response.status() >= 400 && !expected(response.url(), response.status()))
      problems.push(`${response.status()}: ${response.request().method()} ${response.url()}`);
  });
  return problems;
}
