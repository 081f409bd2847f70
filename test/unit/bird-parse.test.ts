import { describe, expect, it } from 'vitest';
import { parseRoutes } from '../harness/bird.js';

describe('birdc output parser (test harness)', () => {
  it('splits routes and keeps their attribute lines', () => {
    const out = [
      'Table master4:',
      '192.0.2.10/32        unicast [vc1 10:00:00.000] * (100) [AS65001i]',
      '\tvia 127.0.0.3 on lo',
      '\tBGP.community: (65001,100)',
      '192.0.2.11/32        unicast [vc1 10:00:00.000] * (100) [AS65001i]',
      '\tvia 127.0.0.3 on lo',
    ].join('\n');
    const routes = parseRoutes(out);
    expect(routes.map((r) => r.prefix)).toEqual(['192.0.2.10/32', '192.0.2.11/32']);
    expect(routes[0]!.detail).toContain('BGP.community: (65001,100)');
  });
});
