/**
 * Builds the chat page (web/) into web/dist/: index.html, assets/app-<hash>.js and
 * assets/app-<hash>.css. Content-hashed names let lib/http/chat-page.ts cache assets forever
 * while index.html is revalidated on every load.
 *
 *   npx tsx scripts/build-web.ts         # VITE_API_URL from the environment, empty by default
 *
 * VITE_API_URL is baked in at build time, as with the seed's Vite build: empty means "the
 * service that served the page" (see web/src/websocket-url.ts).
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const webRoot = path.join(projectRoot, 'web');

export interface BuildWebOptions {
  /** Where to write; web/dist by default. Emptied first so stale hashed files do not pile up. */
  outDirectory?: string;
  /** The API base the page talks to; '' = the page's own location. */
  apiUrl?: string;
}

export interface BuildWebResult {
  outDirectory: string;
  /** Relative asset paths as index.html references them, e.g. `assets/app-4KX2….js`. */
  script: string;
  stylesheet: string;
}

export async function buildWeb(options: BuildWebOptions = {}): Promise<BuildWebResult> {
  const outDirectory = path.resolve(options.outDirectory ?? path.join(webRoot, 'dist'));
  await rm(outDirectory, { recursive: true, force: true });
  await mkdir(path.join(outDirectory, 'assets'), { recursive: true });

  const result = await build({
    entryPoints: { app: path.join(webRoot, 'src/main.ts'), style: path.join(webRoot, 'src/styles.css') },
    outdir: path.join(outDirectory, 'assets'),
    entryNames: 'app-[hash]',
    bundle: true,
    format: 'esm',
    target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    define: { 'import.meta.env.VITE_API_URL': JSON.stringify(options.apiUrl ?? '') },
  });

  const outputs = Object.keys(result.metafile.outputs).map((output) => path.relative(outDirectory, path.resolve(process.cwd(), output)).split(path.sep).join('/'));
  const script = outputs.find((output) => output.endsWith('.js'));
  const stylesheet = outputs.find((output) => output.endsWith('.css'));
  if (!script || !stylesheet) throw new Error(`esbuild produced ${outputs.join(', ')}; expected one .js and one .css`);

  const template = await readFile(path.join(webRoot, 'index.html'), 'utf8');
  const html = template.replace('./assets/app.js', `./${script}`).replace('./assets/app.css', `./${stylesheet}`);
  if (!html.includes(script) || !html.includes(stylesheet)) throw new Error('web/index.html must reference ./assets/app.js and ./assets/app.css');
  await writeFile(path.join(outDirectory, 'index.html'), html);
  return { outDirectory, script, stylesheet };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const started = performance.now();
  const built = await buildWeb({ apiUrl: process.env.VITE_API_URL ?? '' });
  const where = path.relative(process.cwd(), built.outDirectory) || '.';
  console.log(`build-web: ${where}/index.html, ${built.script}, ${built.stylesheet} in ${Math.round(performance.now() - started)} ms`);
}
