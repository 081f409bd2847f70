# NixOS module: services.vipcast.
#
#   services.vipcast = {
#     enable = true;
#     settings = { bgp = { local_as = 65001; router_id = "10.0.0.1"; neighbors = [ ... ]; };
#                  vips = [ ... ]; };            # vipcast.yaml as Nix (see README.md)
#     adminTokenFile = "/run/keys/vipcast-token"; # secrets stay files, never in the store
#     gobgp.enable = true;                        # GoBGP sidecar (nixpkgs' services.gobgpd)
#   };
#
# The config is rendered to vipcast.yaml in the store (nix/render.nix) and checked at build
# time with `vipcast check`. Fail-safe: gobgpd is bound to vipcast (BindsTo= + PartOf=), so a
# stopped, failed or restarted vipcast takes gobgpd and every route it held down with it; and
# a watchdog kills and restarts vipcast (and with it gobgpd) when its /healthz stops answering
# (a hung health loop).
{ config, lib, pkgs, ... }:

let
  inherit (lib) mkOption mkEnableOption mkIf mkDefault mkForce types optional optionals optionalString;
  cfg = config.services.vipcast;
  render = import ./render.nix;
  json = pkgs.formats.json { };

  bgp = cfg.settings.bgp or { };
  gobgpMode = (bgp.gobgp_address or null) != null;
  manage = (bgp.gobgp or { }).manage or true;
  listenPort = if bgp ? listen && bgp.listen != null then bgp.listen.port or 179 else null;
  # The built-in speaker accepts sessions only with bgp.listen; with GoBGP, gobgpd listens.
  speakerListens = !gobgpMode && listenPort != null;
  bindsInterface = (cfg.settings.bind_interface or null) != null
    || builtins.any (v: (v.bind_interface or null) != null) (cfg.settings.vips or [ ]);
  caps = optional (speakerListens && listenPort < 1024) "CAP_NET_BIND_SERVICE"
    ++ optional bindsInterface "CAP_NET_ADMIN";

  # TimeoutStopSec must outlast the ordered shutdown: shutdown.grace_period (vipcast's default
  # 5s; an unparsable value counts as the 10m maximum, and `vipcast check` rejects it anyway)
  # plus the withdraw and its confirmation.
  graceText = let s = cfg.settings.shutdown or null; in if s == null then "5s" else s.grace_period or "5s";
  graceSeconds = let d = import ./duration.nix graceText; in if d == null then 600 else d;
  withdrawSeconds = 60;
  stopSecondsMatch = builtins.match "([0-9]+)s?" cfg.stopTimeout;

  credDir = "/run/credentials/vipcast.service";
  adminListen = (cfg.settings.admin or { }).listen or "127.0.0.1:9179";
  # A wildcard (or no) host is probed on 127.0.0.1. POSIX ERE (Nix's builtins.match) has no
  # `\]` escape: the brackets are bracket expressions.
  healthzUrl = "http://${
    let m = builtins.match "(0\\.0\\.0\\.0|[[]::[]]|::)?:?([0-9]+)" adminListen;
    in if m != null then "127.0.0.1:${builtins.elemAt m 1}" else adminListen
  }/healthz";

  configText = render cfg.settings;
  configFile =
    if !cfg.checkConfig then pkgs.writeText "vipcast.yaml" configText
    else pkgs.runCommand "vipcast.yaml" { nativeBuildInputs = [ cfg.package ]; inherit configText; passAsFile = [ "configText" ]; } ''
      cp "$configTextPath" vipcast.yaml
      vipcast check --config vipcast.yaml
      cp vipcast.yaml "$out"
    '';

  # A config change reloads vipcast in place (SIGHUP: unchanged VIPs stay advertised) when it
  # only touches what its reload applies (src/app/vipcast.ts: the VIPs, health defaults,
  # neighbors, the admin token); any other change restarts it (ordered drain, then up again).
  # The unit runs the config from a fixed path, so a new config alone does not change the unit.
  configPath = "/etc/vipcast/vipcast.yaml";
  restartOnlySettings =
    let
      s = cfg.settings;
      strip = names: v: if v == null then { } else builtins.removeAttrs v names;
      admin = strip [ "token_file" ] (s.admin or null);
    in
    builtins.removeAttrs s [ "vips" "health" "admin" ]
    // lib.optionalAttrs (s ? bgp) { bgp = strip [ "neighbors" ] s.bgp; }
    // lib.optionalAttrs (admin != { }) { inherit admin; };

  gobgpdSettingsFile = (pkgs.formats.toml { }).generate "gobgpd.conf" config.services.gobgpd.settings;
in
{
  options.services.vipcast = {
    enable = mkEnableOption "vipcast, which advertises healthy services' VIPs over BGP";

    package = mkOption {
      type = types.package;
      default = pkgs.vipcast or (pkgs.callPackage ./package.nix { });
      defaultText = lib.literalExpression "pkgs.callPackage ./package.nix { }";
      description = "The vipcast package.";
    };

    settings = mkOption {
      type = types.submodule { freeformType = json.type; };
      default = { };
      description = ''
        vipcast.yaml as a Nix value (keys as in the configuration reference, snake_case).
        Rendered to JSON (valid YAML) and checked with `vipcast check` at build time. Secrets
        are files: see adminTokenFile and credentialFiles.
      '';
    };

    checkConfig = mkOption {
      type = types.bool;
      default = true;
      description = "Run `vipcast check` on the rendered config at build time.";
    };

    adminTokenFile = mkOption {
      # A string, not a path: a Nix path would be copied into the world-readable store.
      type = types.nullOr (types.strMatching "/.+");
      default = null;
      example = "/run/keys/vipcast-admin-token";
      description = ''
        File with the admin API's bearer token (drain/undrain). Passed to the service with
        systemd's LoadCredential= (readable by the dynamic user, never copied to the store);
        sets settings.admin.token_file.
      '';
    };

    credentialFiles = mkOption {
      type = types.attrsOf (types.strMatching "/.+");
      default = { };
      example = { tor-password = "/run/keys/bgp-tor"; };
      description = ''
        More secret files (e.g. a neighbor's TCP-MD5 password_file), each loaded with
        LoadCredential= and readable by the service at /run/credentials/vipcast.service/NAME:
        refer to that path in settings.
      '';
    };

    stopTimeout = mkOption {
      type = types.str;
      default = "${toString (graceSeconds + withdrawSeconds)}s";
      defaultText = lib.literalExpression ''"<settings.shutdown.grace_period in seconds, 5 by default, + 60>s"'';
      description = ''
        TimeoutStopSec: how long the ordered shutdown may take before systemd kills vipcast.
        It must be longer than shutdown.grace_period plus the withdraw and its confirmation;
        the default is the grace period plus 60 s. A value in plain seconds ("90" or "90s")
        is checked against the grace period.
      '';
    };

    openFirewall = mkOption {
      type = types.bool;
      default = true;
      description = "Open settings.bgp.listen.port (179) in the firewall when the built-in speaker listens.";
    };

    watchdog = {
      enable = mkOption {
        type = types.bool;
        default = true;
        description = ''
          Kill and restart vipcast when its /healthz (admin API) has not answered 200 for
          `watchdog.failures` probes in a row: a hung health loop must not leave routes up.
          SIGKILL, not the ordered shutdown: a process that stopped answering gets no drain
          (waiting TimeoutStopSec for it would keep its routes up that long); its BGP
          sessions drop with it, and with gobgp.enable gobgpd is restarted with it (PartOf=).
        '';
      };
      interval = mkOption { type = types.ints.positive; default = 10; description = "Seconds between probes."; };
      failures = mkOption { type = types.ints.positive; default = 3; description = "Failed probes in a row before the restart."; };
    };

    gobgp = {
      enable = mkEnableOption "a GoBGP sidecar (nixpkgs' services.gobgpd) driven by vipcast over gRPC";
      apiAddress = mkOption {
        type = types.str;
        default = "127.0.0.1:50051";
        description = "gobgpd's gRPC listen address (settings.bgp.gobgp_address defaults to it). Keep it on loopback.";
      };
    };
  };

  config = mkIf cfg.enable {
    assertions = [
      {
        assertion = (cfg.settings.bgp or null) != null && (cfg.settings.vips or null) != null;
        message = "services.vipcast.settings needs at least bgp and vips (see the configuration reference)";
      }
      {
        assertion = stopSecondsMatch == null || lib.toInt (builtins.head stopSecondsMatch) > graceSeconds + 10;
        message = "services.vipcast.stopTimeout (${cfg.stopTimeout}) must be longer than settings.shutdown.grace_period (${toString graceSeconds}s) plus the withdraw (at least 10 s)";
      }
      {
        assertion = cfg.gobgp.enable -> gobgpMode;
        message = "services.vipcast.gobgp.enable needs settings.bgp.gobgp_address (it defaults to gobgp.apiAddress)";
      }
    ];

    services.vipcast.settings = lib.mkMerge [
      (mkIf cfg.gobgp.enable { bgp.gobgp_address = mkDefault cfg.gobgp.apiAddress; })
      (mkIf (cfg.adminTokenFile != null) { admin.token_file = "${credDir}/admin-token"; })
    ];

    environment.etc."vipcast/vipcast.yaml".source = configFile;

    # Port 179 when something here accepts sessions: the built-in speaker with bgp.listen, or
    # gobgpd given bgp.listen by vipcast (manage: true).
    networking.firewall.allowedTCPPorts =
      optional (cfg.openFirewall && listenPort != null && (speakerListens || cfg.gobgp.enable)) listenPort;

    systemd.services.vipcast = {
      description = "vipcast: BGP advertisement of healthy services' VIPs";
      wantedBy = [ "multi-user.target" ];
      wants = [ "network-online.target" ] ++ optional cfg.gobgp.enable "gobgpd.service";
      # After gobgpd: on stop, vipcast goes first and withdraws over live sessions.
      after = [ "network-online.target" ] ++ optional cfg.gobgp.enable "gobgpd.service";
      reloadTriggers = [ configFile ];
      restartTriggers = [ (render restartOnlySettings) ];
      path = optional bindsInterface pkgs.iproute2;
      serviceConfig = {
        ExecStart = "${lib.getExe cfg.package} run --config ${configPath}";
        ExecReload = "${pkgs.coreutils}/bin/kill -HUP $MAINPID";
        Restart = "on-failure";
        RestartSec = "2s";
        TimeoutStopSec = cfg.stopTimeout;
        # SIGTERM to vipcast only: it stops its own checks during the ordered shutdown.
        KillMode = "mixed";
        DynamicUser = true;
        RuntimeDirectory = [ "vipcast" "vipcast/drain" ];
        RuntimeDirectoryMode = "0750";
        LoadCredential = optional (cfg.adminTokenFile != null) "admin-token:${cfg.adminTokenFile}"
          ++ lib.mapAttrsToList (name: path: "${name}:${path}") cfg.credentialFiles;
        AmbientCapabilities = caps;
        CapabilityBoundingSet = caps;
        NoNewPrivileges = true;
        ProtectSystem = "strict";
        ProtectHome = true;
        PrivateTmp = true;
        PrivateDevices = true;
        ProtectKernelTunables = true;
        ProtectKernelModules = true;
        ProtectKernelLogs = true;
        ProtectControlGroups = true;
        ProtectClock = true;
        ProtectHostname = true;
        ProtectProc = "invisible";
        RestrictNamespaces = true;
        RestrictRealtime = true;
        RestrictSUIDSGID = true;
        LockPersonality = true;
        # Node's JIT writes executable memory: MemoryDenyWriteExecute must stay off.
        MemoryDenyWriteExecute = false;
        RemoveIPC = true;
        UMask = "0077";
        RestrictAddressFamilies = [ "AF_INET" "AF_INET6" "AF_UNIX" ] ++ optional bindsInterface "AF_NETLINK";
        SystemCallArchitectures = "native";
        SystemCallFilter = [ "@system-service" "~@privileged" "~@resources" ];
        SystemCallErrorNumber = "EPERM";
      };
    };

    # Liveness for vipcast under systemd (the Kubernetes livenessProbe's counterpart).
    systemd.services.vipcast-watchdog = mkIf cfg.watchdog.enable {
      description = "Restarts vipcast when its /healthz stops answering";
      bindsTo = [ "vipcast.service" ];
      after = [ "vipcast.service" ];
      wantedBy = [ "vipcast.service" ];
      path = [ pkgs.curl pkgs.systemd pkgs.coreutils ];
      script = ''
        failed=0
        sleep 30   # vipcast's first health rounds
        while true; do
          if curl -fsS -m 3 -o /dev/null ${lib.escapeShellArg healthzUrl}; then failed=0; else failed=$((failed + 1)); fi
          if [ "$failed" -ge ${toString cfg.watchdog.failures} ]; then
            echo "vipcast /healthz failed $failed times in a row: killing and restarting vipcast (and gobgpd with it)"
            # The restart job first (its stop takes gobgpd with it, PartOf=), then SIGKILL so the
            # stop does not wait TimeoutStopSec for a process that stopped answering. In this
            # order because this unit is bound to vipcast and may be stopped with it.
            systemctl restart --no-block vipcast.service
            systemctl kill --signal=SIGKILL vipcast.service
            exit 0
          fi
          sleep ${toString cfg.watchdog.interval}
        done
      '';
      serviceConfig = { Restart = "on-failure"; DynamicUser = false; ProtectSystem = "strict"; ProtectHome = true; PrivateTmp = true; };
    };

    services.gobgpd.enable = mkIf cfg.gobgp.enable true;
    systemd.services.gobgpd = mkIf cfg.gobgp.enable {
      # A stopped or dead vipcast stops gobgpd (its routes go with it); restarting vipcast
      # restarts gobgpd. gobgpd never runs without vipcast.
      bindsTo = [ "vipcast.service" ];
      partOf = [ "vipcast.service" ];
      serviceConfig = {
        # manage: true (default): gobgpd starts bare and vipcast configures it; manage: false:
        # services.gobgpd.settings is its config. The gRPC API stays on loopback (nixpkgs'
        # default would listen on every address).
        ExecStartPre = mkForce (optionals (!manage) [ "${pkgs.gobgpd}/bin/gobgpd -f ${gobgpdSettingsFile} -d" ]);
        ExecStart = mkForce (lib.concatStringsSep " " ([ "${pkgs.gobgpd}/bin/gobgpd" "--api-hosts" cfg.gobgp.apiAddress "--sdnotify" "--pprof-disable" ]
          ++ optionals (!manage) [ "-f" "${gobgpdSettingsFile}" ]));
        # nixpkgs' ExecReload (`gobgpd -r`) would start a second gobgpd (-r is
        # --graceful-restart). gobgpd rereads its config file on SIGHUP, but without one
        # (manage: true) it does not handle SIGHUP and would exit: no reload then.
        ExecReload = mkForce (optionals (!manage) [ "${pkgs.coreutils}/bin/kill -HUP $MAINPID" ]);
      };
    };
  };
}
