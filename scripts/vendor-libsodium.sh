#!/bin/sh
# vendor-libsodium.sh - reproduces web/vendor/ (libsodium-wrappers-sumo and libsodium-sumo, ISC)
# from the npm registry and checks every file against the sha256 sums in web/vendor/VERSION.
#   scripts/vendor-libsodium.sh          fetch, rewrite, compare with web/vendor (changes nothing)
#   scripts/vendor-libsodium.sh --write  fetch, rewrite, write the files and VERSION's sums
# The browser client has no build step, so the wrapper's bare import "libsodium-sumo" is
# rewritten to the file beside it ("./libsodium-sumo.mjs"); nothing else is changed. npm pack
# checks each tarball against the registry's integrity hash.
set -eu

VERSION=0.8.4
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/web/vendor"
WRITE=0
[ "${1:-}" = "--write" ] && WRITE=1

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

(cd "$TMP" && npm pack --silent "libsodium-wrappers-sumo@$VERSION" "libsodium-sumo@$VERSION" >/dev/null)
mkdir "$TMP/w" "$TMP/s" "$TMP/out"
tar xzf "$TMP/libsodium-wrappers-sumo-$VERSION.tgz" -C "$TMP/w"
tar xzf "$TMP/libsodium-sumo-$VERSION.tgz" -C "$TMP/s"

WRAP="$TMP/w/package/dist/modules-sumo-esm/libsodium-wrappers.mjs"
grep -q 'from"libsodium-sumo"' "$WRAP" || { echo "vendor: the wrapper's import changed" >&2; exit 1; }
sed 's|from"libsodium-sumo"|from"./libsodium-sumo.mjs"|' "$WRAP" > "$TMP/out/libsodium-wrappers-sumo.mjs"
cp "$TMP/s/package/dist/modules-sumo-esm/libsodium-sumo.mjs" "$TMP/out/libsodium-sumo.mjs"
cp "$TMP/w/package/LICENSE" "$TMP/out/LICENSE"
cmp -s "$TMP/w/package/LICENSE" "$TMP/s/package/LICENSE" ||
	{ echo "vendor: the two packages' licences differ" >&2; exit 1; }

FILES="libsodium-wrappers-sumo.mjs libsodium-sumo.mjs LICENSE"
if [ "$WRITE" -eq 1 ]; then
	mkdir -p "$OUT"
	for f in $FILES; do cp "$TMP/out/$f" "$OUT/$f"; done
	{
		echo "libsodium-wrappers-sumo $VERSION and libsodium-sumo $VERSION (npm, ISC licence: LICENSE)"
		echo "libsodium-wrappers-sumo.mjs is the package's dist/modules-sumo-esm/libsodium-wrappers.mjs"
		echo "with its import \"libsodium-sumo\" rewritten to \"./libsodium-sumo.mjs\"; libsodium-sumo.mjs is"
		echo "libsodium-sumo's dist/modules-sumo-esm/libsodium-sumo.mjs as published."
		echo "Made and checked by scripts/vendor-libsodium.sh. sha256 of each file:"
		(cd "$OUT" && sha256sum $FILES)
	} > "$OUT/VERSION"
	echo "vendor: wrote $OUT"
fi

# The sums are the lines of VERSION that look like sha256sum's output.
grep -E '^[0-9a-f]{64}  ' "$OUT/VERSION" > "$TMP/sums"
[ "$(wc -l < "$TMP/sums")" -eq 3 ] || { echo "vendor: VERSION must list 3 sums" >&2; exit 1; }
(cd "$TMP/out" && sha256sum -c --quiet "$TMP/sums") ||
	{ echo "vendor: npm's files differ from the sums in web/vendor/VERSION" >&2; exit 1; }
(cd "$OUT" && sha256sum -c --quiet "$TMP/sums") ||
	{ echo "vendor: web/vendor differs from the sums in its VERSION" >&2; exit 1; }
echo "vendor: web/vendor matches libsodium-wrappers-sumo $VERSION from npm"
