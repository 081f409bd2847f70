/**
 * Connection collision detection, RFC 4271 §6.8: when two connections exist between the same
 * pair of speakers, "the BGP Identifier of the local system is compared to the BGP Identifier of
 * the remote system (as specified in the OPEN message). Comparing BGP Identifiers is done by
 * converting them to host byte order and treating them as 4-octet unsigned integers."
 * "If the value of the local BGP Identifier is less than the remote one, the local system closes
 * the BGP connection that already exists (the one that is already in the OpenConfirm state), and
 * accepts the BGP connection initiated by the remote system. Otherwise, the local system closes
 * the newly created BGP connection (the one associated with the newly received OPEN message)."
 * Put differently: the connection initiated by the speaker with the higher identifier survives.
 */

/** Dotted quad to unsigned 32-bit (never negative, unlike `<<` arithmetic on JS numbers). */
export function routerIdToUint32(id: string): number {
  const parts = id.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`invalid BGP identifier ${id}`);
  }
  return (((parts[0]! * 256 + parts[1]!) * 256 + parts[2]!) * 256 + parts[3]!) >>> 0;
}

export type CollisionWinner = 'locally-initiated' | 'remotely-initiated';

/** Which connection to keep: the one initiated by the side with the higher BGP Identifier. */
export function collisionWinner(localId: string, remoteId: string): CollisionWinner {
  return routerIdToUint32(localId) > routerIdToUint32(remoteId) ? 'locally-initiated' : 'remotely-initiated';
}
