// A deployment's preview image (its front page, captured once it was ready), or a placeholder with the project's
// initials and why there is no image.
/** @jsxImportSource preact */

export interface PreviewView {
  /** The image's dashboard URL, or null while there is none. */
  src: string | null;
  /** Why there is no image (shown on the placeholder). */
  note: string;
}

/** "My cool site" -> "MC"; "blog" -> "BL". */
export function initials(name: string): string {
  const words = name.match(/[\p{L}\p{N}]+/gu) ?? [];
  const letters =
    words.length >= 2 ? `${words[0]?.[0] ?? ""}${words[1]?.[0] ?? ""}` : (words[0] ?? "?").slice(0, 2);
  return letters.toUpperCase() || "?";
}

export function PreviewImage(props: { preview: PreviewView; name: string; href: string | null }) {
  const { preview, name, href } = props;
  const picture = preview.src ? (
    <img
      src={preview.src}
      id="preview-image"
      class="preview-image"
      width={1280}
      height={800}
      alt={`The front page of ${name}`}
      loading="lazy"
      decoding="async"
    />
  ) : (
    <div
      class="preview-placeholder"
      id="preview-placeholder"
      role="img"
      aria-label={`${name}: ${preview.note}`}
    >
      <span class="preview-initials" aria-hidden="true">
        {initials(name)}
      </span>
      <span class="small muted">{preview.note}</span>
    </div>
  );
  return (
    <figure class="preview">
      {href && preview.src ? (
        <a href={href} target="_blank" rel="noopener noreferrer" aria-label={`Visit ${name}`}>
          {picture}
        </a>
      ) : (
        picture
      )}
    </figure>
  );
}
