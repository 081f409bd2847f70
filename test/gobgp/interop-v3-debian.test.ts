// GoBGP backend interop with GoBGP 3.10 (Debian) (scenarios in interop-suite.ts).
import { interopSuite } from './interop-suite.js';

interopSuite('3.10 (Debian)');
