#!/bin/sh
# check-layers.sh - the server's layers include only downwards (docs/DESIGN.md "Layers"):
#   src/common           nothing of the server
#   src/server/net       common
#   src/server/session   net, common
#   src/server/chat      session, net, common, store, cluster, and the server's top (config, hub)
#   src/server/media     net, common, store, and the server's top
#   src/server/cluster   common, store (the bus between nodes: the chat calls it, and it
#                        calls the chat back only through the struct cluster_handler it is
#                        given)
# config.h (pierd's settings: a leaf that includes nothing of the server's) may be read by every
# layer: it is where their limits are set. A lower layer that includes a header of a higher
# one fails this check (the ctest test structure/layers).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
status=0

# headers_of DIR: the header names a layer's directory provides.
headers_of() {
	for f in "$root/$1"/*.h; do
		[ -e "$f" ] || continue
		[ "$(basename "$f")" = config.h ] && continue
		basename "$f"
	done
}

# forbid LAYER_DIR HIGHER_DIR...: LAYER_DIR's files include no header of the HIGHER_DIRs.
forbid() {
	layer=$1; shift
	for higher in "$@"; do
		for h in $(headers_of "$higher"); do
			hits=$(grep -ln "#include \"$h\"" "$root/$layer"/*.[ch] 2>/dev/null || true)
			for f in $hits; do
				echo "layers: ${f#$root/} includes $h from $higher (a higher layer)" >&2
				status=1
			done
		done
	done
}

forbid src/common src/server src/server/net src/server/session src/server/chat src/server/media src/store
forbid src/server/net src/server src/server/session src/server/chat src/server/media src/store
forbid src/server/session src/server src/server/chat src/server/media
forbid src/server/cluster src/server src/server/net src/server/session src/server/chat src/server/media
[ "$status" -eq 0 ] && echo "layers: every include goes downwards"
exit "$status"
