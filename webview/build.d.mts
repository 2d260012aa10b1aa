/** Bundles webview/src/main.ts → `<outdir>/main.js` and webview/src/styles.css → `<outdir>/main.css`. */
export function buildWebview(options: { outdir: string; minify?: boolean }): Promise<void>;
