/**
 * @grpc/grpc-js and @grpc/proto-loader, loaded on first use: only grpc checks need them, and
 * loading both at start cost every vipcast about 14 MB of RSS (measured: a bare `node` process
 * 40 MB, 54 MB after importing @grpc/grpc-js), most of it for configs without a grpc check. The
 * GoBGP backend loads its own copy lazily too (src/backend/create.ts). Both are CommonJS, so a
 * synchronous require keeps the check factory synchronous.
 */
import { createRequire } from 'node:module';

type GrpcJs = typeof import('@grpc/grpc-js');
type ProtoLoader = typeof import('@grpc/proto-loader');

const require = createRequire(import.meta.url);
let grpcJs: GrpcJs | undefined;
let protoLoader: ProtoLoader | undefined;

export function grpcLib(): GrpcJs {
  return (grpcJs ??= require('@grpc/grpc-js') as GrpcJs);
}

export function protoLoaderLib(): ProtoLoader {
  return (protoLoader ??= require('@grpc/proto-loader') as ProtoLoader);
}
