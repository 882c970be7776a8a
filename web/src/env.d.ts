// Build-time values, replaced by scripts/build-web.ts (esbuild `define`), named as Vite names them.
interface ImportMetaEnv {
  readonly VITE_API_URL?: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
