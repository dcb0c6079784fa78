// Types for bin/entry-point.js (plain JavaScript: it runs before anything is compiled).
export declare const COMPILED_MAIN: string;
export declare const SOURCE_MAIN: string;
export declare function staleSource(root: string): string | undefined;
export type EntryPoint =
  | { readonly kind: "dist"; readonly file: string }
  | { readonly kind: "sources"; readonly file: string; readonly reason: string }
  | { readonly kind: "missing"; readonly reason: string };
export declare function chooseEntryPoint(root: string): EntryPoint;
