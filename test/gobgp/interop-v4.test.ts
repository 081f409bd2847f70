// GoBGP backend interop with GoBGP v4.8.0 (scenarios in interop-suite.ts).
import { interopSuite } from './interop-suite.js';

interopSuite('v4.8.0');
