# vipcast's flake: the package, the NixOS module and a NixOS VM test.
#   nix build ./nix#vipcast
#   nix flake check ./nix                 # builds the package and runs the VM test (KVM)
#   imports = [ vipcast.nixosModules.default ];  services.vipcast = { ... };
# It lives in nix/ (the repository's top level is fixed); Nix copies the whole repository for
# it, so package.nix builds from the repository root. No flake.lock is committed: it was
# written where nixpkgs cannot be fetched; the first `nix flake lock` pins the input below.
# nixpkgs must be 24.05 or newer: package.nix uses importNpmLock (and its npmConfigHook),
# which nixpkgs gained in 2024 (NixOS/nixpkgs#289231, before the 24.05 branch-off).
{
  description = "vipcast: advertise healthy services' VIPs over BGP (built-in speaker or a GoBGP sidecar)";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forAllSystems (pkgs: rec {
        vipcast = pkgs.callPackage ./package.nix { };
        default = vipcast;
      });

      nixosModules.vipcast = { pkgs, lib, ... }: {
        imports = [ ./module.nix ];
        services.vipcast.package = lib.mkDefault self.packages.${pkgs.stdenv.hostPlatform.system}.vipcast;
      };
      nixosModules.default = self.nixosModules.vipcast;

      checks = forAllSystems (pkgs: {
        vipcast = self.packages.${pkgs.stdenv.hostPlatform.system}.vipcast;
        vm-gobgp-bird = pkgs.testers.runNixOSTest (import ./tests/vipcast-bird.nix { vipcastModule = self.nixosModules.vipcast; });
      });
    };
}
