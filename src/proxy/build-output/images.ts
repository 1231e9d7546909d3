// Build Output routes: `/_vercel/image`, the image optimizer URL that adapters write when config.json has an
// `images` block (Astro's imageService, Next.js' next/image). There is no optimizer here: the original local
// image is served as is, after the same parameter checks Vercel makes, so pages keep working with bigger files.
// Remote images are not fetched (that would make the proxy an open fetcher); they get a 400 saying so.

import { emptyPlan, type RouteAnswer } from "./answer.ts";
import type { Images } from "./config-schema.ts";
import type { Filesystem } from "./filesystem.ts";
import { parseQuery, queryValue } from "./query.ts";

export const IMAGE_PATH = "/_vercel/image";

const refuse = (status: number, reason: string): RouteAnswer => ({
  kind: "status",
  status,
  reason,
  response: emptyPlan(),
});

export function imageAnswer(images: Images, rawQuery: string, fs: Filesystem): RouteAnswer {
  const query = parseQuery(rawQuery);
  const url = queryValue(query, "url");
  const width = queryValue(query, "w");
  const quality = queryValue(query, "q");
  if (!url) return refuse(400, '"url" parameter is required');
  if (!width) return refuse(400, '"w" parameter (width) is required');
  if (!/^\d+$/.test(width) || !images.sizes.includes(Number(width)))
    return refuse(400, `"w" parameter (width) of ${width} is not allowed`);
  if (quality !== undefined) {
    const q = Number(quality);
    const allowed = images.qualities
      ? images.qualities.includes(q)
      : Number.isInteger(q) && q >= 1 && q <= 100;
    if (!/^\d+$/.test(quality) || !allowed)
      return refuse(400, `"q" parameter (quality) of ${quality} is not allowed`);
  }
  if (!url.startsWith("/") || url.startsWith("//"))
    return refuse(400, "remote images are not fetched (no image optimizer): use a local image");
  const path = url.split(/[?#]/)[0] as string;
  const found = fs.lookup(path);
  if (found?.kind !== "static") return refuse(404, "no such image");
  const headers: Record<string, string> = {};
  if (images.contentSecurityPolicy) headers["content-security-policy"] = images.contentSecurityPolicy;
  if (images.contentDispositionType) headers["content-disposition"] = images.contentDispositionType;
  return {
    kind: "static",
    file: found.file,
    ...(found.contentType && { contentType: found.contentType }),
    status: 200,
    response: { ...emptyPlan(), headers },
  };
}
