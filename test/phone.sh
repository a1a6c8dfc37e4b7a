#!/bin/sh
# Builds and runs test/phone_compact.cpp (phone.cpp's compact form of a
# plain number parses as the number as typed) against the system's
# libphonenumber, as the module links it.
set -eu
cd "$(dirname "$0")/.."
bin=$(mktemp /tmp/leadflow-phone.XXXXXX)
trap 'rm -f "$bin"' EXIT
${CXX:-g++} -O2 -Wall -Werror -Isrc -o "$bin" test/phone_compact.cpp -lphonenumber -lprotobuf
"$bin"
