#!/bin/bash
# `make test-matrix`: the whole `make test` on every supported major —
# PostgreSQL 15 on this Debian bookworm host, 17 in a Debian trixie chroot,
# 18 in a Debian forky chroot — one line of counts per major, non-zero exit
# if any major fails.
#
# The chroots are built once with debootstrap from the host's own Debian
# mirror (read from its apt configuration) and kept outside the checkout in
# $LEADFLOW_CHROOTS (default /var/tmp/leadflow-chroots, ~2.5 GB each); a
# chroot is rebuilt when its package list (`make deps-list`) changes.  Each
# run copies the working tree (tracked and untracked, not ignored files) into
# the chroot and runs `make test` there with the chroot's own pg_config.
# /proc, /sys, /dev/pts and a /dev/shm tmpfs are mounted for the run and
# unmounted on every exit path, also after a failure or Ctrl-C.
#
# MATRIX="15 17" limits the run to some majors.
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
root=${LEADFLOW_CHROOTS:-/var/tmp/leadflow-chroots}
majors=${MATRIX:-15 17 18}
logdir=$(mktemp -d /tmp/leadflow-matrix.XXXXXX)
declare -A suite_of=([17]=trixie [18]=forky)
declare -A result
status=0
started=$(date +%s)

say() { echo "matrix: $*"; }

# every mount below $root, deepest first
unmount_all() {
	local m
	for m in $(awk -v r="$root/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
}
trap 'unmount_all' EXIT
trap 'unmount_all; exit 130' INT TERM

mount_all() {	# mount_all DIR
	mount -t proc proc "$1/proc" &&
	mount -t sysfs sysfs "$1/sys" &&
	mkdir -p "$1/dev/pts" "$1/dev/shm" &&
	mount -t devpts -o newinstance,ptmxmode=0666 devpts "$1/dev/pts" &&
	mount -t tmpfs -o mode=1777 shm "$1/dev/shm"
}

in_chroot() {	# in_chroot DIR COMMAND: a clean root environment, no stdin
	chroot "$1" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive CI="${CI:-}" /bin/bash -c "$2" </dev/null
}

# the host's Debian mirror, as apt knows it (nothing host-specific is
# written into the repository)
mirror() {
	local codename uri
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	uri=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null |
		awk -v c="$codename" '$2 == c { print $1; exit }')
	[ -n "$uri" ] || uri=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null)
	[ -n "$uri" ] || uri=$(awk '$1 == "deb" && $0 !~ /security/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
	echo "$uri"
}

# build_chroot MAJOR SUITE: a chroot with MAJOR's packages, reused while its
# stamp (suite and package list) is unchanged
build_chroot() {
	local major=$1 suite=$2 dir=$root/$2 packages stamp uri script
	packages=$(make -s --no-print-directory deps-list PG_MAJOR="$major")
	stamp="$suite $packages"
	if [ -f "$dir/.leadflow-stamp" ] && [ "$(cat "$dir/.leadflow-stamp")" = "$stamp" ]; then
		return 0
	fi
	uri=$(mirror)
	[ -n "$uri" ] || { say "no Debian mirror in this host's apt configuration"; return 1; }
	say "building the $suite chroot for PostgreSQL $major from $uri (once; cached in $dir)"
	rm -rf "$dir" && mkdir -p "$root" || return 1
	command -v debootstrap >/dev/null || { apt-get update -q && apt-get install -y -q --no-install-recommends debootstrap </dev/null; } || return 1
	# a suite newer than the host's debootstrap (forky on bookworm) is made
	# by the script every Debian suite shares
	script=/usr/share/debootstrap/scripts/$suite
	[ -e "$script" ] || script=/usr/share/debootstrap/scripts/sid
	debootstrap --variant=minbase "$suite" "$dir" "$uri" "$script" >"$logdir/debootstrap-$suite.log" 2>&1 ||
		{ tail -20 "$logdir/debootstrap-$suite.log"; return 1; }
	# no service starts inside, no main cluster is created
	printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d" && chmod 755 "$dir/usr/sbin/policy-rc.d"
	mkdir -p "$dir/etc/postgresql-common/createcluster.d" &&
		echo 'create_main_cluster = false' >"$dir/etc/postgresql-common/createcluster.d/leadflow.conf"
	# a mirror may serve a snapshot of testing whose Release has passed its
	# Valid-Until; the packages are still the signed ones
	echo 'Acquire::Check-Valid-Until "false";' >"$dir/etc/apt/apt.conf.d/99leadflow"
	mount_all "$dir" || return 1
	# LLVM and clang only where the server-dev package insists (JIT bitcode
	# is not built: the Makefile sets with_llvm = no)
	in_chroot "$dir" "apt-get update -q && apt-get install -y -q --no-install-recommends $packages" \
		>"$logdir/apt-$suite.log" 2>&1 || { tail -30 "$logdir/apt-$suite.log"; unmount_all; return 1; }
	unmount_all
	in_chroot "$dir" "apt-get clean"
	echo "$stamp" >"$dir/.leadflow-stamp"
}

# run_chroot MAJOR: `make test` inside the chroot, on a copy of this tree
run_chroot() {
	local major=$1 suite=${suite_of[$1]} dir=$root/${suite_of[$1]} rc
	build_chroot "$major" "$suite" || return 1
	rm -rf "$dir/build" && mkdir -p "$dir/build/leadflow" || return 1
	git ls-files -z -co --exclude-standard | tar -C "$top" --null -T - -cf - | tar -C "$dir/build/leadflow" -xf - || return 1
	mount_all "$dir" || { unmount_all; return 1; }
	in_chroot "$dir" "cd /build/leadflow && make test PG_MAJOR=$major"
	rc=$?
	unmount_all
	return $rc
}

# counts() LOG: the closing line of test/run.sh, or nothing
counts() { sed -n 's/^leadflow tests: \([0-9]* passed, [0-9]* failed\)$/\1/p' "$1" | tail -n 1; }

for major in $majors; do
	log=$logdir/test-$major.log
	t0=$(date +%s)
	if [ -n "${suite_of[$major]:-}" ]; then
		run_chroot "$major" 2>&1 | tee "$log"
	else	# the host's own major
		make test PG_MAJOR="$major" </dev/null 2>&1 | tee "$log"
	fi
	rc=${PIPESTATUS[0]}
	c=$(counts "$log")
	[ -n "$c" ] || c="0 passed, 1 failed"
	[ "$rc" -eq 0 ] || status=1
	case "$c" in *" 0 failed") ;; *) status=1 ;; esac
	result[$major]="PostgreSQL $major: $c (exit $rc, $(( $(date +%s) - t0 )) s)"
done

echo
for major in $majors; do echo "${result[$major]}"; done
say "$(( $(date +%s) - started )) s in all; logs in $logdir"
unmount_all
if mount | grep -q "$root/"; then say "mounts left below $root"; status=1; fi
exit $status
