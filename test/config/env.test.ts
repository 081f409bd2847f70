import { describe, expect, test } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/errors.js';
import { FILE } from './helpers.js';

const TEXT = `bgp:
  local_as: \${LOCAL_AS:-65001}
  router_id: \${NODE_IP}
  neighbors:
    - address: "\${TOR_ADDRESS}"
      remote_as: 65000
      description: "literal $\${NOT_A_VAR} and \${NODE_IP}"
vips:
  - name: web
    prefix: 192.0.2.10
    checks:
      - type: tcp
        address: 127.0.0.1:8080
`;

describe('environment references in values', () => {
  test('${NAME}, ${NAME:-default}, $${ escape, and plain scalars re-typed', () => {
    const c = parseConfig(TEXT, FILE, { NODE_IP: '10.1.2.3', TOR_ADDRESS: '10.1.2.254' });
    expect(c.bgp.localAs).toBe(65001);
    expect(c.bgp.routerId).toBe('10.1.2.3');
    expect(c.bgp.neighbors[0]).toMatchObject({ address: '10.1.2.254', description: 'literal ${NOT_A_VAR} and 10.1.2.3' });
  });

  test('a set variable wins over the default and is validated like a literal', () => {
    expect(parseConfig(TEXT, FILE, { NODE_IP: '10.1.2.3', TOR_ADDRESS: '10.1.2.254', LOCAL_AS: '4200000001' }).bgp.localAs).toBe(4200000001);
    try {
      parseConfig(TEXT, FILE, { NODE_IP: 'not-an-ip', TOR_ADDRESS: '10.1.2.254' });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect((err as ConfigError).issues.map((i) => [i.path, i.line])).toEqual([['bgp.router_id', 3]]);
    }
  });

  test('an unset variable without a default is an error with its line', () => {
    try {
      parseConfig(TEXT, FILE, { TOR_ADDRESS: '10.1.2.254' });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      // NODE_IP is used twice: both places are reported.
      expect((err as ConfigError).issues.map((i) => [i.code, i.line])).toEqual([
        ['env_unset', 3],
        ['env_unset', 7],
      ]);
      expect((err as ConfigError).issues[0]!.message).toContain('NODE_IP');
    }
  });

  test('a value cannot inject YAML structure', () => {
    // The whole string stays one (invalid) address value; no new key appears.
    try {
      parseConfig(TEXT, FILE, { NODE_IP: '10.1.2.3', TOR_ADDRESS: '10.1.2.254\n  evil: true' });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect((err as ConfigError).issues.map((i) => i.path)).toEqual(['bgp.neighbors[0].address']);
    }
  });
});
