# vipcast as a Nix package: the npm dependencies from package-lock.json, `npm run build` (tsc),
# dev dependencies pruned, the `vipcast` bin from package.json wrapped with Node.js 20.
#
# Dependencies: nixpkgs' importNpmLock (nixpkgs >= 24.05) fetches each package separately,
# with the integrity hash package-lock.json already holds, so there is no npmDepsHash to
# recompute when the lock changes. The lock omits npm's `resolved` URLs; npm-lock.nix writes
# them back in (see there).
#
# Native code: none is compiled. koffi (the C FFI behind the built-in speaker's TTL socket
# options) ships prebuilt binaries in per-platform optional packages
# (@koromix/koffi-linux-x64, ...), which npm installs for the build platform alone; koffi's
# only lifecycle script, `install`, checks that the prebuilt loads and, if not, builds from
# source with CMake. The build runs no lifecycle script at all (npm rebuild --ignore-scripts:
# no CMake, no node-gyp for testcontainers' optional cpu-features), and installCheckPhase
# proves that the prebuilt koffi loads from $out.
{ lib, buildNpmPackage, importNpmLock, nodejs_20, iproute2, makeWrapper }:

let
  manifest = lib.importJSON ../package.json;
  packageLock = import ./npm-lock.nix { } (lib.importJSON ../package-lock.json);
  # What the package is built from: the repository, less what is built, installed or only
  # for deployment (a change under deploy/ or nix/ does not rebuild the package).
  excluded = [ "node_modules" "dist" ".git" "deploy" "nix" "result" ];
in
buildNpmPackage {
  pname = "vipcast";
  inherit (manifest) version;

  src = lib.cleanSourceWith {
    src = ../.;
    filter = path: type:
      let top = builtins.head (lib.splitString "/" (lib.removePrefix (toString ../. + "/") (toString path)));
      in !(builtins.elem top excluded);
  };

  nodejs = nodejs_20;

  npmDeps = importNpmLock {
    npmRoot = ../.;
    inherit packageLock;
  };
  npmConfigHook = importNpmLock.npmConfigHook;
  # No lifecycle scripts (see the header): nothing native is compiled.
  npmRebuildFlags = [ "--ignore-scripts" ];

  nativeBuildInputs = [ makeWrapper ];
  npmBuildScript = "build";

  # bind_interface runs iproute2's `ip`.
  postInstall = ''
    wrapProgram $out/bin/vipcast --prefix PATH : ${lib.makeBinPath [ iproute2 ]}
  '';

  doInstallCheck = true;
  installCheckPhase = ''
    runHook preInstallCheck
    $out/bin/vipcast --version
    # The prebuilt koffi binary loads (it is what the built-in speaker's TTL options use).
    (cd $out/lib/node_modules/vipcast && ${nodejs_20}/bin/node --input-type=module \
      -e "import koffi from 'koffi'; if (typeof koffi.load !== 'function') process.exit(1);")
    runHook postInstallCheck
  '';

  meta = {
    description = manifest.description;
    license = lib.licenses.asl20;
    mainProgram = "vipcast";
    platforms = lib.platforms.linux;
  };
}
