/**
 * Secrets read from files (TCP-MD5 passwords in `password_file`): the file's text with one
 * trailing newline trimmed, as secrets mounted from files (Kubernetes Secrets, `echo > file`)
 * usually end with one. Both BGP backends read passwords through this, so one file means the
 * same password to gobgpd and to the built-in speaker. Errors are the caller's to wrap.
 */
import { readFile } from 'node:fs/promises';

export async function readSecretFile(file: string): Promise<string> {
  return (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
}
