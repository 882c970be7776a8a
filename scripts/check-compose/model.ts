/** Small readers over a parsed compose document, tolerant of Compose's short and long forms. */

export type Node = Record<string, unknown>;

export function asNode(value: unknown): Node {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Node) : {};
}

export function services(model: Node): Map<string, Node> {
  return new Map(Object.entries(asNode(model.services)).map(([name, service]) => [name, asNode(service)]));
}

/** `environment` as a map, from either the mapping or the `KEY=value` list form. */
export function environment(service: Node): Map<string, string> {
  const raw = service.environment;
  if (Array.isArray(raw)) {
    return new Map(raw.map((entry) => String(entry)).map((entry) => [entry.split('=')[0] ?? '', entry.includes('=') ? entry.slice(entry.indexOf('=') + 1) : '']));
  }
  return new Map(Object.entries(asNode(raw)).map(([name, value]) => [name, value === null || value === undefined ? '' : String(value)]));
}

/** depends_on as name → condition (the list form means service_started). */
export function dependencies(service: Node): Map<string, string> {
  const raw = service.depends_on;
  if (Array.isArray(raw)) return new Map(raw.map((name) => [String(name), 'service_started']));
  return new Map(Object.entries(asNode(raw)).map(([name, value]) => [name, String(asNode(value).condition ?? 'service_started')]));
}

export function networkNames(service: Node): string[] {
  const raw = service.networks;
  return Array.isArray(raw) ? raw.map(String) : Object.keys(asNode(raw));
}

export interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
  bind: boolean;
}

/** volumes in short (`src:dst:ro`) or long form. */
export function mounts(service: Node): Mount[] {
  const raw = Array.isArray(service.volumes) ? service.volumes : [];
  return raw.map((entry) => {
    if (typeof entry === 'string') {
      const [source = '', target = '', mode = ''] = entry.split(':');
      return { source, target, readOnly: mode.split(',').includes('ro'), bind: /^[./~]/.test(source) };
    }
    const long = asNode(entry);
    return { source: String(long.source ?? ''), target: String(long.target ?? ''), readOnly: long.read_only === true, bind: long.type === 'bind' };
  });
}

/** command or healthcheck test as a list of words (a string is split on spaces). */
export function words(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return typeof value === 'string' ? value.split(/\s+/).filter(Boolean) : [];
}

export function publishes(service: Node): boolean {
  return Array.isArray(service.ports) && service.ports.length > 0;
}

export function profiles(service: Node): string[] {
  return Array.isArray(service.profiles) ? service.profiles.map(String) : [];
}
