// GoBGP's own BGP codec as an independent oracle for vipcast's encoder
// (test/speaker/codec/gobgp-decoder.test.ts): reads one hex message per line on stdin, parses
// it with github.com/osrg/gobgp pkg/packet/bgp (Debian's golang-github-osrg-gobgp-dev, built in
// GOPATH mode) and prints one JSON line per message: the parsed message, or {"error": "..."}.
package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"

	"github.com/osrg/gobgp/pkg/packet/bgp"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<22)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		b, err := hex.DecodeString(in.Text())
		if err != nil {
			fmt.Fprintf(out, "{\"error\":%q}\n", "hex: "+err.Error())
			continue
		}
		m, err := bgp.ParseBGPMessage(b)
		if err != nil {
			fmt.Fprintf(out, "{\"error\":%q}\n", err.Error())
			continue
		}
		j, err := json.Marshal(m)
		if err != nil {
			fmt.Fprintf(out, "{\"error\":%q}\n", "json: "+err.Error())
			continue
		}
		fmt.Fprintln(out, string(j))
	}
}
