# Evaluates nix/package.nix without nixpkgs (not fetchable here): the few nixpkgs functions it
# calls are stood in for, buildNpmPackage returns its arguments and importNpmLock returns its
# own, so test/deploy/nix.test.ts can check what the derivation is given (the dependencies'
# source, the hooks, the flags, the source filter). It builds nothing.
{ repo }:
let
  hasPrefix = p: s: builtins.substring 0 (builtins.stringLength p) s == p;
  lib = {
    importJSON = p: builtins.fromJSON (builtins.readFile p);
    cleanSourceWith = args: args;
    removePrefix = p: s: if hasPrefix p s then builtins.substring (builtins.stringLength p) (-1) s else s;
    splitString = sep: s: builtins.filter builtins.isString (builtins.split sep s);
    makeBinPath = ps: builtins.concatStringsSep ":" (map (p: "${p}/bin") ps);
    licenses.asl20 = "asl20";
    platforms.linux = [ "x86_64-linux" "aarch64-linux" ];
  };
  importNpmLock = {
    __functor = _: args: { importNpmLockArgs = args; };
    npmConfigHook = "importNpmLock.npmConfigHook";
  };
in
import (repo + "/nix/package.nix") {
  inherit lib importNpmLock;
  buildNpmPackage = args: args;
  nodejs_20 = "nodejs_20";
  iproute2 = "iproute2";
  makeWrapper = "makeWrapper";
}
