/** RFC 4271 §8 finite state machine: pure, clock injected. */
export * from './types.js';
export { step, initialSnapshot, adoptCollisionWinner } from './fsm.js';
export { backoffMs, keepaliveMs, negotiateHoldTime, nextDeadline, LARGE_HOLD_TIME_SEC, DEFAULT_CONNECT_RETRY } from './timers.js';
export { collisionWinner, routerIdToUint32, type CollisionWinner } from './collision.js';
export * from './codes.js';
