interface Stage {
  base: string;
  name?: string;
  lines: string[];
}

/**
 * The Dockerfile's essentials (issue 3), checked where no Dockerfile linter is installable
 * (hadolint is neither in Debian's packages nor on npm): multi-stage on node:20-bookworm-slim,
 * production dependencies only, no onnxruntime download, a non-root user, a healthcheck that
 * needs no curl, HOST=0.0.0.0, the project's folders, and no secret baked into the image.
 */
export function checkDockerfile(text: string): string[] {
  const failures: string[] = [];
  const fail = (message: string) => failures.push(`Dockerfile: ${message}`);
  // One instruction per line: continuation lines joined, comments dropped.
  const instructions = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const argDefaults = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of instructions) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    if (keyword.toUpperCase() === 'FROM') {
      const base = (rest[0] ?? '').replace(/\$\{?(\w+)\}?/g, (_, name: string) => argDefaults.get(name) ?? '');
      stages.push({ base, name: /^as$/i.test(rest[1] ?? '') ? rest[2] : undefined, lines: [] });
    } else if (stages.length === 0 && keyword.toUpperCase() === 'ARG') {
      const [name = '', value = ''] = rest.join(' ').split('=');
      argDefaults.set(name, value);
    } else {
      stages.at(-1)?.lines.push(line);
    }
  }
  const final = stages.at(-1);
  if (!final) return ['Dockerfile: no FROM'];
  const inFinal = (keyword: string) => final.lines.filter((line) => line.toUpperCase().startsWith(`${keyword} `));

  if (stages.length < 2) fail(`must be multi-stage (found ${stages.length} FROM)`);
  const bases = stages.map((stage) => stage.base);
  if (!bases.every((base) => base === 'node:20-bookworm-slim' || stages.some((stage) => stage.name === base))) fail(`stages must build on node:20-bookworm-slim (has ${bases.join(', ')})`);

  const productionStage = stages.find((stage) => stage.lines.some((line) => /\bnpm ci\b.*--omit=dev/.test(line)));
  if (!productionStage) fail('production dependencies must come from `npm ci --omit=dev`');
  const modulesFrom = inFinal('COPY').filter((line) => line.includes('node_modules'));
  if (modulesFrom.length === 0) fail('the final stage must copy node_modules from the --omit=dev stage');
  for (const line of modulesFrom) {
    if (!productionStage?.name || !line.includes(`--from=${productionStage.name}`)) fail(`node_modules must come from the --omit=dev stage: ${line}`);
  }
  if (inFinal('RUN').some((line) => /\bnpm (ci|install|i)\b/.test(line))) fail('the final stage must not install packages (dev dependencies could slip in)');
  if (!/ONNXRUNTIME_NODE_INSTALL=skip/.test(text)) fail('set ONNXRUNTIME_NODE_INSTALL=skip (onnxruntime-node would download CUDA binaries)');

  const user = inFinal('USER').at(-1)?.slice(5).trim();
  if (!user || user === 'root' || user.startsWith('0')) fail('the final stage must switch to a non-root USER');
  const healthcheck = inFinal('HEALTHCHECK').join(' ');
  if (!healthcheck.includes('/healthz')) fail('HEALTHCHECK must ask /healthz');
  if (/\b(curl|wget)\b/.test(healthcheck)) fail('HEALTHCHECK cannot use curl or wget (not in the slim image)');
  if (!/\bHOST=0\.0\.0\.0\b/.test(inFinal('ENV').join(' '))) fail('the final stage must set ENV HOST=0.0.0.0');
  const copied = inFinal('COPY').flatMap((line) => line.split(/\s+/).slice(1, -1));
  for (const entry of ['functions', 'lib', 'sql', 'scripts', 'web', 'package.json', 'package-lock.json', '.npmrc']) {
    if (!copied.some((source) => source === entry || source.endsWith(`/${entry}`))) fail(`the final stage must copy ${entry}`);
  }
  if (!/npm.*start/.test(inFinal('CMD').at(-1) ?? '')) fail('CMD must be `npm start`');
  for (const line of instructions.filter((line) => /^(ENV|ARG)\s/i.test(line))) {
    if (/(TOKEN|PASSWORD|SECRET|API_KEY)\w*[=\s]+\S/i.test(line)) fail(`a secret is baked into the image: ${line}`);
  }
  if (instructions.some((line) => /^COPY\s.*\.env\b/i.test(line))) fail('env files must not be copied into the image');
  return failures;
}

/** Entries .dockerignore must hold so no env file, clone history or local data reaches a build. */
export function checkDockerignore(text: string): string[] {
  const lines = new Set(text.split(/\r?\n/).map((line) => line.trim()));
  return ['node_modules', '.env.*', '.git', 'data'].filter((entry) => !lines.has(entry)).map((entry) => `.dockerignore: must exclude ${entry}`);
}
