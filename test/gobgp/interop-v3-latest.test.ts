// GoBGP backend interop with GoBGP v3.37.0 (scenarios in interop-suite.ts).
import { interopSuite } from './interop-suite.js';

interopSuite('v3.37.0');
