/**
 * Errors of the GoBGP backend. Each carries a stable code (tests and callers match on the code,
 * never on the text); RPC failures also name the RPC and carry the daemon's own message.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';

export type GobgpErrorCode =
  /** The daemon did not answer (connection refused, reset, deadline): a sidecar restart or a wrong address. */
  | 'GOBGP_UNAVAILABLE'
  /** The daemon answered an RPC with an error (its message is in `detail`). */
  | 'GOBGP_RPC_FAILED'
  /** manage: false and the daemon's global BGP config is not started. */
  | 'GOBGP_NOT_STARTED'
  /** manage: true and the daemon runs with another AS or router id than bgp.local_as/router_id. */
  | 'GOBGP_GLOBAL_MISMATCH'
  /** Neither API generation answered GetBgp, or the forced one is not served. */
  | 'GOBGP_API_UNSUPPORTED'
  /** TLS material could not be read. */
  | 'GOBGP_TLS'
  /** A neighbor's password_file could not be read. */
  | 'GOBGP_PASSWORD_FILE'
  /** After repair, ListPath still differs from the applied set. */
  | 'GOBGP_DRIFT_PERSISTS'
  /** The backend was stopped. */
  | 'GOBGP_STOPPED';

export class GobgpError extends Error {
  override readonly name = 'GobgpError';
  constructor(
    readonly code: GobgpErrorCode,
    message: string,
    readonly details: { rpc?: string; grpcCode?: number; daemonMessage?: string } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** gRPC codes that mean "the daemon is not there" rather than "the daemon refused". */
const UNAVAILABLE_CODES = new Set<number>([GrpcStatus.UNAVAILABLE, GrpcStatus.DEADLINE_EXCEEDED, GrpcStatus.CANCELLED]);

/** gRPC codes after which repeating an idempotent call can help. */
export const RETRYABLE_CODES = new Set<number>([GrpcStatus.UNAVAILABLE, GrpcStatus.DEADLINE_EXCEEDED, GrpcStatus.RESOURCE_EXHAUSTED, GrpcStatus.ABORTED]);

interface GrpcLikeError {
  code?: number;
  details?: string;
  message?: string;
}

function grpcCodeName(code: number | undefined): string {
  if (code === undefined) return 'UNKNOWN';
  const entry = Object.entries(GrpcStatus).find(([, v]) => Number(v) === code);
  return entry ? entry[0] : String(code);
}

/** Wraps a grpc-js error: "GoBGP AddPeer failed: UNKNOWN: can't overwrite the existing peer". */
export function rpcError(rpc: string, err: unknown): GobgpError {
  if (err instanceof GobgpError) return err;
  const e = (err ?? {}) as GrpcLikeError;
  const daemonMessage = e.details || e.message || String(err);
  const code = UNAVAILABLE_CODES.has(e.code ?? -1) ? 'GOBGP_UNAVAILABLE' : 'GOBGP_RPC_FAILED';
  return new GobgpError(code, `GoBGP ${rpc} failed: ${grpcCodeName(e.code)}: ${daemonMessage}`, { rpc, grpcCode: e.code, daemonMessage }, { cause: err });
}

export const isUnavailable = (err: unknown): boolean => err instanceof GobgpError && err.code === 'GOBGP_UNAVAILABLE';
export const isUnimplemented = (err: unknown): boolean => err instanceof GobgpError && err.details.grpcCode === GrpcStatus.UNIMPLEMENTED;
