/**
 * Interop with ExaBGP 4.2 (test/harness/peers/exabgp.ts), asserted from the JSON ExaBGP's own
 * API process received (`receive { parsed; update; }`).
 */
import { describe } from 'vitest';
import { Exabgp, type ExaRoute } from '../../harness/peers/exabgp.js';
import { freePort, loopbackAddress } from '../../harness/net.js';
import { interopScenario, LOCAL_AS, PEER_AS, type SeenRoute } from './scenario.js';

function exaSeen(r: ExaRoute): SeenRoute {
  const a = r.attribute;
  const seen: SeenRoute = {
    nextHop: r.nextHop,
    asPath: ((a['as-path'] as number[] | undefined) ?? []).map(Number),
    communities: ((a['community'] as Array<[number, number]> | undefined) ?? []).map(([x, y]) => `${x}:${y}`),
    largeCommunities: ((a['large-community'] as Array<[number, number, number]> | undefined) ?? []).map((l) => l.join(':')),
  };
  if (a['med'] !== undefined) seen.med = Number(a['med']);
  return seen;
}

describe('interop: ExaBGP 4.2', () => {
  interopScenario(async (ours) => {
    const address = loopbackAddress();
    const port = await freePort(address);
    const exa = await Exabgp.start({
      address,
      port,
      neighbors: `neighbor ${ours} {
  router-id 10.255.0.4;
  local-address ${address};
  local-as ${PEER_AS};
  peer-as ${LOCAL_AS};
  hold-time 9;
  passive;
  family {
    ipv4 unicast;
    ipv6 unicast;
  }
  api {
    processes [ receiver ];
    receive { parsed; update; notification; }
    neighbor-changes;
  }
}`,
    });
    return {
      address,
      port,
      routes: async (family) => new Map([...(await exa.routes(family === 'ipv4' ? 'ipv4 unicast' : 'ipv6 unicast'))].map(([p, r]) => [p, exaSeen(r)])),
      restart: () => exa.restart(),
      // ExaBGP 4.2.21 cannot decode *any* Cease/Administrative Shutdown that carries an RFC 9003
      // shutdown communication: Notification.__init__ formats it with
      // b'Shutdown Communication: "%s"' % <str>, a TypeError on Python 3, so the message dies in
      // its decoder and it reports "can not decode update message of type "3"" (3 = NOTIFICATION)
      // instead. We assert exactly that: the session ended on our NOTIFICATION, not on a TCP
      // reset or a hold timer. Should a fixed ExaBGP decode it, its API shows our text instead.
      loggedShutdown: async (message) => {
        const msgs = await exa.messages();
        const decoded = msgs.some((m) => m['type'] === 'notification' && JSON.stringify(m).includes(message));
        const choked = msgs.some((m) => m['type'] === 'state' && /can not decode update message of type \\"3\\"/.test(JSON.stringify(m)));
        return decoded || choked;
      },
      stop: () => exa.stop(),
    };
  });
});
