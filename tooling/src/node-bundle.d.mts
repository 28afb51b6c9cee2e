/** Types of node-bundle.mjs (plain JavaScript so that bin/orthostim.js can load it without tsx). */
export interface NodeBundleSpec {
  /** Folder of the builds and their manifest.json (e.g. <repo>/.cache/cli). */
  cacheDir: string;
  /** esbuild options without outdir/outfile/write/metafile/plugins; JSON-serialisable (they key the cache). */
  options: Record<string, unknown>;
  /** Keep packages other than the workspaces (@orthostim/*) external. */
  externalPackages?: boolean;
  /** Extra files whose change invalidates the build (package.json files, tsconfig.json). */
  watch?: readonly string[];
  /** Extra string that keys the cache. */
  key?: string;
  /** esbuild's working folder (default: the current one); metafile paths are relative to it. */
  workingDir?: string;
}

/** The current build's folder, or null when an input changed or there is none. */
export function currentNodeBundle(spec: NodeBundleSpec): string | null;

/** Build (or reuse) the bundle; `built` says whether esbuild ran. */
export function ensureNodeBundle(spec: NodeBundleSpec): Promise<{ dir: string; built: boolean }>;
