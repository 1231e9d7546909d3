// drop.js is imported as text by src/dashboard/assets.ts (embedded in the binary), never as a module.
declare const source: string;
export default source;
