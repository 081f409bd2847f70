# vipcast as a Nix package: `npm ci`, `npm run build` (tsc), dev dependencies pruned, the
# `vipcast` bin from package.json wrapped with Node.js 20.
#
# npmDepsHash pins the npm dependencies (a fixed-output derivation). It cannot be computed on a
# machine without access to a Nix binary cache and nixpkgs, where this was written, so it is
# lib.fakeHash: the first build fails and prints the real hash ("got: sha256-..."); put it here.
# Recompute it whenever package-lock.json changes (`prefetch-npm-deps package-lock.json`).
{ lib, buildNpmPackage, nodejs_20, iproute2, makeWrapper }:

let
  manifest = builtins.fromJSON (builtins.readFile ../package.json);
in
buildNpmPackage {
  pname = "vipcast";
  inherit (manifest) version;

  src = lib.cleanSourceWith {
    src = ../.;
    filter = path: type:
      let rel = lib.removePrefix (toString ../. + "/") (toString path);
      in !(lib.hasPrefix "node_modules" rel || lib.hasPrefix "dist" rel || lib.hasPrefix ".git" rel
           || lib.hasPrefix "deploy" rel || lib.hasPrefix "nix" rel);
  };

  nodejs = nodejs_20;
  npmDepsHash = lib.fakeHash;

  nativeBuildInputs = [ makeWrapper ];
  npmBuildScript = "build";

  # bind_interface runs iproute2's `ip`.
  postInstall = ''
    wrapProgram $out/bin/vipcast --prefix PATH : ${lib.makeBinPath [ iproute2 ]}
  '';

  doInstallCheck = true;
  installCheckPhase = ''
    $out/bin/vipcast --version
  '';

  meta = {
    description = manifest.description;
    license = lib.licenses.asl20;
    mainProgram = "vipcast";
    platforms = lib.platforms.linux;
  };
}
