#!/bin/sh
# Builds the 0.1.0 release from git and installs it under DESTDIR (a private
# install, as the Makefile's private_run makes of this tree), for the bench's
# comparison of figures 1-3 with 0.1.0 (bench/README.md).
#
#   sh bench/baseline.sh DESTDIR
#
# 0.1.0 is commit 941eeeb, the last one before the work of issues 15 and 16:
# the tree whose install script is, byte for byte, the frozen
# sql/leadflow--0.1.0.sql (checked here on every build).  A hash, not only a
# tag: a fresh clone gets tags only if they were pushed; the tag v0.1.0 is
# used when present and must name the same commit.  No network: the commit
# must be in this clone (a shallow clone lacks it).
#
# Exit 0: installed.  Exit 3: cannot be built here (the reason is the last
# line on stdout; the bench prints it and skips the comparison).  Exit 1:
# the pinned commit no longer builds the frozen script (a bench bug).
set -eu
cd "$(dirname "$0")/.."

RELEASE=941eeeb9579acba6c9e5d40a5201d4521bb7f64a
DEST=${1:?usage: sh bench/baseline.sh DESTDIR}
PG_CONFIG=${PG_CONFIG:-pg_config}

skip() {
	echo "0.1.0 comparison skipped: $*"
	exit 3
}

git cat-file -e "$RELEASE^{commit}" 2>/dev/null ||
	skip "commit $RELEASE (0.1.0) is not in this clone (a shallow clone? git fetch --unshallow)"
if tag=$(git rev-parse -q --verify 'refs/tags/v0.1.0^{commit}' 2>/dev/null); then
	[ "$tag" = "$RELEASE" ] || { echo "baseline: tag v0.1.0 is $tag, not $RELEASE" >&2; exit 1; }
fi

major=$($PG_CONFIG --version | sed -n 's/^PostgreSQL \([0-9]*\).*/\1/p')
src=$(mktemp -d /tmp/leadflow-0.1.0-src.XXXXXX)
trap 'rm -rf "$src"' EXIT
git archive "$RELEASE" | tar -x -C "$src"

# the install script of that tree must be the frozen one
make -s -C "$src" sql/leadflow--0.1.0.sql PG_CONFIG="$PG_CONFIG" >/dev/null
cmp -s "$src/sql/leadflow--0.1.0.sql" sql/leadflow--0.1.0.sql ||
	{ echo "baseline: $RELEASE does not build sql/leadflow--0.1.0.sql as frozen" >&2; exit 1; }

# 0.1.0 predates src/compat.h: it builds against PostgreSQL 15 only
if ! make -C "$src" -j2 all PG_CONFIG="$PG_CONFIG" >"$src/build.log" 2>&1; then
	grep -m 3 -E 'error|Error' "$src/build.log" >&2 || true
	skip "0.1.0 ($(echo $RELEASE | cut -c1-7)) does not build against PostgreSQL $major (it predates src/compat.h)"
fi
make -s -C "$src" install DESTDIR="$DEST" PG_CONFIG="$PG_CONFIG" >/dev/null
echo "0.1.0 ($(echo $RELEASE | cut -c1-7)) installed under $DEST"
