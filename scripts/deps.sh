#!/bin/sh
# Installs the Debian packages pier needs to build and test (Debian 12), plus any named as
# arguments (e.g. clang for make fuzz). Idempotent and quick
# when everything is present already. chromium (with a CJK font for its screenshots) runs the
# browser client's end-to-end tests (tests/e2e). GTK 4 builds the desktop client pier-gtk
# (src/gtk; optional: without it everything else still builds), gettext compiles its
# translations, libsecret keeps its session token in the desktop keyring, glib-networking
# gives GIO its TLS (GnuTLS), xvfb and dbus run its end-to-end
# tests headless, and GStreamer's good plugins play video and audio in it. libpq is the
# PostgreSQL store's client; postgresql runs a throwaway server for its tests. The cluster mode
# (docs/CLUSTER.md) signals over NATS (libnats with its libuv adapter); its tests also run
# nats-server and HAProxy (scripts/pg-test.sh, scripts/nats-test.sh, tests/cluster).
set -eu

PKGS="build-essential cmake pkg-config libuv1-dev libsodium-dev libsqlite3-dev libjansson-dev \
libedit-dev uthash-dev libssl-dev libwslay-dev libhttp-parser-dev libmagic-dev \
libgdk-pixbuf-2.0-dev webp-pixbuf-loader libcurl4-openssl-dev libicu-dev chromium fonts-wqy-microhei \
sqlite3 libpq-dev postgresql libgtk-4-dev libsecret-1-dev gettext glib-networking xvfb xauth dbus gstreamer1.0-plugins-good $*"
# the cluster's bus (docs/CLUSTER.md): the NATS client library and, for the tests, the server;
# HAProxy in front of the nodes in the cluster tests and `make cluster`
PKGS="$PKGS libnats-dev nats-server haproxy"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "deps: installing$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
