/** A tiny HTTP service to health-check: answers "ok"; closing it drops every connection at once. */
import { createServer, type Server } from 'node:http';

export function httpBackend(host: string, port: number): Promise<Server> {
  const srv = createServer((_req, res) => res.end('ok'));
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, host, () => resolve(srv));
  });
}

/** Closes the server and its keep-alive connections (as a dying process would). */
export function closeServer(srv: Server): Promise<void> {
  srv.closeAllConnections();
  return new Promise((resolve) => srv.close(() => resolve()));
}
