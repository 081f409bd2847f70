/**
 * The two generations of GoBGP's gRPC API, loaded from the vendored upstream .proto files
 * (proto/gobgp, see its NOTE.md) with @grpc/proto-loader. Everything that differs between them
 * for the calls vipcast makes is in this table.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';

export type ApiVersion = 'v3' | 'v4';

export interface ApiGeneration {
  version: ApiVersion;
  /** Fully qualified service name, e.g. "apipb.GobgpApi". */
  service: string;
  /** Include root and entry file below proto/gobgp. */
  includeDir: string;
  file: string;
  /** TableType GLOBAL: v3 numbers it 0, v4 1 (0 is TABLE_TYPE_UNSPECIFIED there). */
  tableGlobal: number;
}

export const GENERATIONS: Record<ApiVersion, ApiGeneration> = {
  v3: { version: 'v3', service: 'apipb.GobgpApi', includeDir: 'v3', file: 'gobgp.proto', tableGlobal: 0 },
  v4: { version: 'v4', service: 'api.GoBgpService', includeDir: 'v4', file: 'api/gobgp.proto', tableGlobal: 1 },
};

const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: Number,
  defaults: false,
  oneofs: true,
};

/** proto/gobgp from src/gobgp/api (tsx, vitest) or dist/src/gobgp/api (built). */
function protoRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['../../..', '../../../..']) {
    const dir = join(here, up, 'proto', 'gobgp');
    if (existsSync(join(dir, 'NOTE.md'))) return dir;
  }
  throw new Error(`proto/gobgp not found above ${here}`);
}

const cache = new Map<ApiVersion, protoLoader.PackageDefinition>();

/** The package definition of one generation (loaded once per process). */
export function loadGeneration(version: ApiVersion): protoLoader.PackageDefinition {
  let def = cache.get(version);
  if (!def) {
    const gen = GENERATIONS[version];
    def = protoLoader.loadSync(gen.file, { ...LOADER_OPTIONS, includeDirs: [join(protoRoot(), gen.includeDir)] });
    cache.set(version, def);
  }
  return def;
}
