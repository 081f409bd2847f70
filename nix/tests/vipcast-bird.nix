# NixOS VM test: two nodes on one link.
#   router: BIRD 2, AS 65000, 192.168.1.1
#   node:   vipcast (services.vipcast, GoBGP sidecar via gobgp.enable) + a demo HTTP backend,
#           AS 65001, 192.168.1.2
# Asserted at the router with birdc: the VIP appears with its community; stopping the backend
# withdraws it; starting it advertises it again; stopping vipcast withdraws it and takes
# gobgpd down (BindsTo=); restarting vipcast brings both back.
{ vipcastModule }:
{ pkgs, lib, ... }:

let
  vip = "198.51.100.10/32";
  webroot = pkgs.runCommand "demo-webroot" { } ''
    mkdir -p $out && echo ok > $out/healthz
  '';
in
{
  name = "vipcast-gobgp-bird";

  nodes.router = { ... }: {
    virtualisation.vlans = [ 1 ];
    networking.interfaces.eth1.ipv4.addresses = lib.mkForce [ { address = "192.168.1.1"; prefixLength = 24; } ];
    networking.firewall.allowedTCPPorts = [ 179 ];
    services.bird2 = {
      enable = true;
      config = ''
        router id 192.168.1.1;
        protocol device { }
        protocol bgp node {
          local 192.168.1.1 as 65000;
          neighbor 192.168.1.2 as 65001;
          ipv4 { import all; export none; };
        }
      '';
    };
  };

  nodes.node = { ... }: {
    imports = [ vipcastModule ];
    virtualisation.vlans = [ 1 ];
    networking.interfaces.eth1.ipv4.addresses = lib.mkForce [ { address = "192.168.1.2"; prefixLength = 24; } ];

    systemd.services.demo-backend = {
      wantedBy = [ "multi-user.target" ];
      serviceConfig = {
        ExecStart = "${pkgs.python3}/bin/python3 -m http.server 8080 --bind 127.0.0.1 --directory ${webroot}";
        DynamicUser = true;
      };
    };

    services.vipcast = {
      enable = true;
      gobgp.enable = true;
      settings = {
        bgp = {
          local_as = 65001;
          router_id = "192.168.1.2";
          # local_address set: vipcast (at the time of writing) re-creates a GoBGP neighbor whose
          # local_address it left unset once gobgpd reports the address it chose.
          neighbors = [ { address = "192.168.1.1"; remote_as = 65000; local_address = "192.168.1.2"; description = "router"; } ];
        };
        health = { interval = "1s"; fast_interval = "250ms"; timeout = "500ms"; };
        vips = [
          {
            name = "demo";
            prefix = vip;
            checks = [ { type = "http"; url = "http://127.0.0.1:8080/healthz"; body_contains = "ok"; } ];
            attributes.communities = [ "65001:100" ];
          }
        ];
        shutdown = { graceful_community = true; grace_period = "2s"; };
      };
    };
  };

  testScript = ''
    has_route = "birdc show route ${vip} | grep -q '${vip}'"
    start_all()
    router.wait_for_unit("bird2.service")
    node.wait_for_unit("vipcast.service")
    node.wait_for_unit("gobgpd.service")

    with subtest("the VIP reaches the router with its community"):
        router.wait_until_succeeds(has_route, timeout=90)
        router.succeed("birdc show route ${vip} all | grep -q '(65001,100)'")

    with subtest("stopping the backend withdraws it, starting it advertises it again"):
        node.succeed("systemctl stop demo-backend")
        router.wait_until_fails(has_route, timeout=30)
        node.succeed("systemctl start demo-backend")
        router.wait_until_succeeds(has_route, timeout=30)

    with subtest("the config is the checked, rendered settings"):
        node.succeed("systemctl cat vipcast.service | grep -q 'vipcast.yaml'")
        node.succeed("systemctl show vipcast.service -p DynamicUser | grep -q yes")

    with subtest("stopping vipcast withdraws the VIP and takes gobgpd down with it"):
        node.succeed("systemctl stop vipcast.service")
        router.wait_until_fails(has_route, timeout=30)
        node.fail("systemctl is-active gobgpd.service")

    with subtest("starting vipcast brings gobgpd and the route back"):
        node.succeed("systemctl start vipcast.service")
        node.wait_for_unit("gobgpd.service")
        router.wait_until_succeeds(has_route, timeout=90)
  '';
}
