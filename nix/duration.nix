# A vipcast duration ("500ms", "2s", "1m30s", "1.5s": see src/config/duration.ts) -> seconds,
# rounded up; null when the text is not one (vipcast check then rejects the config at build
# time with its own message). The module sizes TimeoutStopSec from shutdown.grace_period with
# it. Builtins only, so test/deploy/nix.test.ts compares it with vipcast's own parser.
text:
let
  unitMs = { h = 3600000; m = 60000; s = 1000; ms = 1; };
  parts = builtins.split "([0-9]+(\\.[0-9]+)?)(ms|h|m|s)" text;
  # split alternates text between matches (must all be empty) and each match's groups.
  between = builtins.filter builtins.isString parts;
  matches = builtins.filter builtins.isList parts;
  valid = builtins.isString text && matches != [ ] && builtins.all (s: s == "") between;
  ms = builtins.foldl' (acc: m: acc + builtins.fromJSON (builtins.elemAt m 0) * unitMs.${builtins.elemAt m 2}) 0 matches;
in
if valid then builtins.ceil (ms / 1000.0) else null
