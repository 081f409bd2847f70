/** The GoBGP sidecar backend (issue 4): see backend.ts for the design, docs/failsafe.md for deployment. */
export { GobgpBackend, type GobgpBackendOptions } from './backend.js';
export { GobgpError, type GobgpErrorCode } from './errors.js';
export { VIPCAST_PATH_ID } from './paths.js';
export type { ApiVersion } from './api/generation.js';
