# Evaluates nix/module.nix without nixpkgs (not fetchable here), for test/deploy/nix.test.ts.
#
# Stand-ins: the lib functions the module calls; mkIf / mkMerge / mkDefault / mkForce keep the
# module system's shapes ({ _type = "if"; condition; content; } ...) and `resolve` below reads
# them as the module system would for a single definition (a false mkIf is absent, a merge is
# merged, an override is its content). pkgs' builders return descriptions instead of building.
# The option values are the module's own defaults (read from its `options`), overlaid with
# `values` from the test; settings are taken as given (no fixpoint: what the module adds to
# settings is returned as `settingsAdded`).
# Not covered: nixpkgs' services.gobgpd and the real module system (types, merging of many
# definitions); the VM test (nix/tests/) covers those where nixpkgs and KVM are available.
{ repo, values }:
let
  inherit (builtins) isAttrs isList mapAttrs attrNames filter foldl' listToAttrs concatStringsSep;

  absent = { __absent = true; };
  isAbsent = v: isAttrs v && v ? __absent;

  lib = rec {
    mkOption = args: args // { _type = "option"; };
    mkEnableOption = name: { _type = "option"; default = false; description = "Whether to enable ${name}."; };
    mkIf = condition: content: { _type = "if"; inherit condition content; };
    mkMerge = contents: { _type = "merge"; inherit contents; };
    mkDefault = content: { _type = "override"; priority = 1000; inherit content; };
    mkForce = content: { _type = "override"; priority = 50; inherit content; };
    optional = c: x: if c then [ x ] else [ ];
    optionals = c: xs: if c then xs else [ ];
    optionalString = c: s: if c then s else "";
    optionalAttrs = c: a: if c then a else { };
    literalExpression = text: { _type = "literalExpression"; inherit text; };
    mapAttrsToList = f: set: map (n: f n set.${n}) (attrNames set);
    escapeShellArg = s: "'${s}'";
    getExe = p: "${p}/bin/vipcast";
    toInt = s: builtins.fromJSON s;
    inherit concatStringsSep;
    makeBinPath = ps: concatStringsSep ":" (map (p: "${p}/bin") ps);
    types = {
      package = "package"; bool = "bool"; str = "str";
      submodule = m: { submodule = m; };
      nullOr = t: { nullOr = t; };
      strMatching = re: { strMatching = re; };
      attrsOf = t: { attrsOf = t; };
      ints.positive = "positive int";
    };
  };

  pkgs = {
    vipcast = "/nix/store/stand-in-vipcast";
    coreutils = "/nix/store/stand-in-coreutils";
    curl = "/nix/store/stand-in-curl";
    systemd = "/nix/store/stand-in-systemd";
    iproute2 = "/nix/store/stand-in-iproute2";
    gobgpd = "/nix/store/stand-in-gobgpd";
    formats = {
      json = _: { type = "json"; };
      toml = _: { generate = name: value: "/nix/store/stand-in-${name}"; };
    };
    writeText = name: text: { outPath = "/nix/store/stand-in-unchecked-${name}"; inherit name text; checked = false; };
    runCommand = name: env: script: { outPath = "/nix/store/stand-in-checked-${name}"; inherit name script; text = env.configText; checked = true; nativeBuildInputs = env.nativeBuildInputs; };
  };

  # The module's option defaults, overlaid (recursively) with the test's values.
  defaultsOf = opts: if opts ? _type && opts._type == "option" then opts.default or null else mapAttrs (_: defaultsOf) opts;
  overlay = base: top:
    if isAttrs base && isAttrs top && !(top ? _type) && !(base ? _type)
    then base // mapAttrs (n: v: if base ? ${n} then overlay base.${n} v else v) top
    else top;

  call = config: import (repo + "/nix/module.nix") { inherit config lib pkgs; };
  # Two rounds: some defaults read other options (stopTimeout reads settings), so they are taken
  # from the options as evaluated with the first round's values.
  optionsWith = c: (call { services.vipcast = c; services.gobgpd.settings = { }; }).options.services.vipcast;
  cfg0 = overlay (defaultsOf (optionsWith { })) values;
  cfg = overlay (defaultsOf (optionsWith cfg0)) values;
  module = call { services.vipcast = cfg; services.gobgpd.settings = { }; };

  # One definition as the module system reads it.
  deepMerge = a: b:
    if isAttrs a && isAttrs b then a // mapAttrs (n: v: if a ? ${n} then deepMerge a.${n} v else v) b
    else if isList a && isList b then a ++ b
    else b;
  resolve = v:
    if isAttrs v && v ? _type then
      (if v._type == "if" then (if v.condition then resolve v.content else absent)
       else if v._type == "merge" then foldl' (acc: c: let r = resolve c; in if isAbsent r then acc else deepMerge acc r) { } v.contents
       else if v._type == "override" then resolve v.content
       else v)
    else if isAttrs v && v ? outPath then v
    else if isAttrs v then
      let r = mapAttrs (_: resolve) v; in listToAttrs (map (n: { name = n; value = r.${n}; }) (filter (n: !(isAbsent r.${n})) (attrNames r)))
    else if isList v then map resolve v
    else v;

  out = resolve module.config;
in
{
  inherit cfg;
  enabled = !(isAbsent out);
  settingsAdded = out.services.vipcast.settings or { };
  assertions = out.assertions or [ ];
  firewallPorts = out.networking.firewall.allowedTCPPorts or [ ];
  vipcast = out.systemd.services.vipcast or null;
  watchdog = out.systemd.services.vipcast-watchdog or null;
  gobgpdEnabled = out.services.gobgpd.enable or false;
  gobgpd = out.systemd.services.gobgpd or null;
  # The config file at /etc/vipcast/vipcast.yaml (an attribute set with outPath would print as
  # its path), and whether the unit's reload trigger is that same file.
  configFile =
    let t = out.environment.etc."vipcast/vipcast.yaml".source or null;
    in if t == null then null else {
      inherit (t) name text checked;
      path = t.outPath;
      script = t.script or null;
      reloadTrigger = (builtins.head out.systemd.services.vipcast.reloadTriggers).outPath == t.outPath;
    };
}
