// What a User-Agent header says, as far as analytics needs it: a bot or not, the browser family and the OS.
// A small parser of our own (no database of agents): the first matching rule wins, so order matters
// (Edge and Opera also say "Chrome", Chrome also says "Safari", Android also says "Linux").

export interface Agent {
  bot: boolean;
  browser: string;
  os: string;
}

/** Crawlers, monitors, link previewers and HTTP libraries: anything that is not a person's browser. */
const BOT =
  /bot\b|bot\/|crawl|spider|slurp|archiver|scraper|monitor|uptime|pingdom|preview|facebookexternalhit|embedly|curl\/|wget\/|httpie|python-|aiohttp|go-http-client|java\/|okhttp|libwww|node-fetch|undici|axios|headlesschrome|phantomjs|lighthouse|bun\/|deno\/|^$/i;

const BROWSERS: [RegExp, string][] = [
  [/\bEdg(e|A|iOS)?\//, "Edge"],
  [/\bOPR\/|\bOpera\b/, "Opera"],
  [/\bSamsungBrowser\//, "Samsung Internet"],
  [/\bYaBrowser\//, "Yandex"],
  [/\bVivaldi\//, "Vivaldi"],
  [/\bFirefox\/|\bFxiOS\//, "Firefox"],
  [/\bCriOS\/|\bChrome\/|\bChromium\//, "Chrome"],
  [/\bVersion\/[\d.]+.*\bSafari\/|\bMobile\/\w+ Safari|AppleWebKit.*\bMobile\//, "Safari"],
  [/\bMSIE |\bTrident\//, "Internet Explorer"],
];

const SYSTEMS: [RegExp, string][] = [
  [/\bWindows\b/, "Windows"],
  [/\biPhone|\biPad|\biPod|\biOS\b/, "iOS"],
  [/\bAndroid\b/, "Android"],
  [/\bCrOS\b/, "ChromeOS"],
  [/\bMac OS X\b|\bMacintosh\b/, "macOS"],
  [/\bLinux\b|\bX11\b|\bUbuntu\b|\bFedora\b/, "Linux"],
];

const first = (rules: [RegExp, string][], ua: string): string => {
  for (const [rule, name] of rules) if (rule.test(ua)) return name;
  return "Other";
};

export function parseUserAgent(userAgent: string): Agent {
  const ua = userAgent.slice(0, 512);
  return { bot: BOT.test(ua), browser: first(BROWSERS, ua), os: first(SYSTEMS, ua) };
}
