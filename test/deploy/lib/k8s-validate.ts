/**
 * Offline validation of Kubernetes manifests against the API's OpenAPI schemas, as bundled
 * (pre-compiled) by the kubernetes-models package: types, required fields, enums, formats.
 *
 * Those schemas allow unknown fields (the API server prunes or rejects them, depending on its
 * field validation), so a typo such as `livenesProbe` would pass them. Strict mode adds what
 * `kubectl --validate=strict` does: the document is wrapped in proxies that record every
 * property the compiled validator reads; a property it never read is not in the schema.
 */
export interface ManifestProblem {
  doc: string;
  path: string;
  message: string;
}

type Validator = ((data: unknown) => boolean) & { errors?: Array<{ instancePath: string; message?: string; params?: unknown }> | null };

/** apiVersion/kind -> the kubernetes-models schema module name (IoK8sApi<Group><Version><Kind>). */
export function schemaName(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['core', apiVersion];
  const groupPart = group!
    .replace(/\.k8s\.io$/, '')
    .split('.')
    .map((s) => s.charAt(0).toUpperCase() + s.slice(1))
    .join('');
  return `IoK8sApi${groupPart}${version!.charAt(0).toUpperCase()}${version!.slice(1)}${kind}`;
}

async function loadValidator(apiVersion: string, kind: string): Promise<Validator> {
  const name = schemaName(apiVersion, kind);
  try {
    const mod = (await import(`kubernetes-models/_schemas/${name}`)) as { validate: Validator };
    return mod.validate;
  } catch (err) {
    throw new Error(`no Kubernetes schema for ${apiVersion} ${kind} (${name}): ${String(err)}`, { cause: err });
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Wraps `value` so reads are recorded as "path.key" in `read`. */
function track(value: unknown, path: string, read: Set<string>): unknown {
  if (isObject(value)) {
    return new Proxy(value, {
      get(target, key, receiver) {
        if (typeof key === 'string' && Object.prototype.hasOwnProperty.call(target, key)) {
          read.add(`${path}.${key}`);
          return track(Reflect.get(target, key, receiver), `${path}.${key}`, read);
        }
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
  }
  if (Array.isArray(value)) {
    return new Proxy(value, {
      get(target, key, receiver) {
        const v = Reflect.get(target, key, receiver) as unknown;
        return typeof key === 'string' && /^\d+$/.test(key) ? track(v, `${path}[${key}]`, read) : v;
      },
    });
  }
  return value;
}

function allPaths(value: unknown, path: string, out: string[]): void {
  if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      out.push(`${path}.${k}`);
      allPaths(v, `${path}.${k}`, out);
    }
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => allPaths(v, `${path}[${i}]`, out));
  }
}

/** Validates one manifest; returns its problems (empty: valid). */
export async function validateManifest(doc: unknown, strict = true): Promise<ManifestProblem[]> {
  if (!isObject(doc) || typeof doc.apiVersion !== 'string' || typeof doc.kind !== 'string') {
    return [{ doc: '?', path: '', message: 'not a Kubernetes object (apiVersion and kind are required)' }];
  }
  const meta = isObject(doc.metadata) ? doc.metadata : {};
  const id = `${doc.kind}/${typeof meta.name === 'string' ? meta.name : '?'}`;
  const validate = await loadValidator(doc.apiVersion, doc.kind);
  const read = new Set<string>();
  const ok = validate(strict ? track(doc, '', read) : doc);
  const problems: ManifestProblem[] = [];
  if (!ok) {
    for (const e of validate.errors ?? []) {
      problems.push({ doc: id, path: e.instancePath, message: `${e.message ?? 'invalid'} ${e.params ? JSON.stringify(e.params) : ''}`.trim() });
    }
  }
  if (strict) {
    const paths: string[] = [];
    allPaths(doc, '', paths);
    for (const p of paths) {
      if (!read.has(p)) problems.push({ doc: id, path: p, message: 'unknown field (not in the schema)' });
    }
  }
  return problems;
}
