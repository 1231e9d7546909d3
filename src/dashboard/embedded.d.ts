// Types of the assets imported as text (`with { type: "text" }`) so they are embedded in the binary.

declare module "htmx.org/dist/htmx.min.js" {
  const source: string;
  export default source;
}

declare module "*.css" {
  const source: string;
  export default source;
}

declare module "*.svg" {
  const source: string;
  export default source;
}
