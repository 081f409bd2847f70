# package-lock.json (parsed) -> the same lock with each registry package's `resolved` URL
# written in.
#
# Why: nixpkgs' importNpmLock fetches every package from its `resolved` URL, using the lock's
# own `integrity` as the fixed-output hash (no npmDepsHash to keep up to date). This
# repository's lock is written with npm's `omit-lockfile-registry-resolved` setting, so its
# entries carry `version` and `integrity` but no `resolved`; importNpmLock would fetch none of
# them and the offline `npm install` in the build sandbox would fail. npm itself derives the
# URL from the registry for such entries; this does the same:
#   <registry>/<name>/-/<name without its @scope/>-<version>.tgz
# where <name> is the entry's `name` (an alias such as string-width-cjs -> string-width) or
# else the last `node_modules/` segment of its key.
# Entries left alone: the root (""), ones that already have `resolved` (git, file, a URL),
# workspace links, and bundled dependencies (they come inside their parent's tarball).
#
# Builtins only, so test/deploy/nix.test.ts evaluates it on the real lock without nixpkgs.
{ registry ? "https://registry.npmjs.org" }:
lock:
let
  nameOf = key: module:
    if module ? name then module.name
    else builtins.head (builtins.match ".*node_modules/(.+)" key);

  tarballUrl = name: version:
    let
      scoped = builtins.match "@[^/]+/(.+)" name;
      base = if scoped == null then name else builtins.head scoped;
    in
    "${registry}/${name}/-/${base}-${version}.tgz";

  needsUrl = key: module:
    key != ""
    && (module.resolved or null) == null
    && !(module.link or false)
    && !(module.inBundle or false)
    && module ? version
    && module ? integrity;

  fill = key: module:
    if needsUrl key module
    then module // { resolved = tarballUrl (nameOf key module) module.version; }
    else module;
in
lock // { packages = builtins.mapAttrs fill (lock.packages or { }); }
