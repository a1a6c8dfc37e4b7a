#!/bin/sh
# Layer lint (README "Development"): every src/ file includes only headers
# of its own layer or below, and a stage never includes another stage's
# header.  Layers, bottom up:
#   0 pure            no SPI, no tables: text, names, email/domain/phone,
#                     predicates, business hours, hashing, version shims
#   1 infrastructure  module and settings, SPI helpers, the lead row, the
#                     request context, notifications, transaction buffers
#   2 state           configuration cache, journey, routing state
#   3 stages          one file per pipeline stage
#   4 pipeline        the leads trigger and the statement-end trigger
#   5 entry points    SQL functions over the layers below
# A module missing from the map fails the lint: place it when adding it.
set -u
cd "$(dirname "$0")/.."

layer_of() {
	case "$1" in
	compat | text | normalize | email | names | phone | numbers | country | country_data | source | predicate | predicate_* | business_hours | decay | journey_hash) echo 0 ;;
	leadflow | tenant | spi | shard | request | lead | notify | txbuf) echo 1 ;;
	rulecache | rulecache_* | journey | journey_head | journey_event | route_state | search_words) echo 2 ;;
	validate | dedup | dedup_touch | enrich | score | predict | predict_int | predict_counts | route | route_int | workflow | nurture | account) echo 3 ;;
	pipeline | pipeline_*) echo 4 ;;
	capture | reassign | maintenance | route_sql | journey_sql | predict_sql | score_sql | predicate_sql | search) echo 5 ;;
	*) echo "" ;;
	esac
}

status=0
for f in src/*.c src/*.cpp src/*.h; do
	mod=$(basename "$f" | sed 's/\.[a-z]*$//')
	# X_int.h holds internals that X's own files share
	mine=$(layer_of "$mod")
	if [ -z "$mine" ]; then
		echo "layers: $f is in no layer (add it to test/layers.sh and the README map)"
		status=1
		continue
	fi
	for h in $(sed -n 's/^#include "\([a-z_]*\)\.h"$/\1/p' "$f"); do
		[ "$h" = "$mod" ] && continue
		[ "${h%_int}" = "${mod%_int}" ] && continue
		# X_Y.c of X's layer is one of X's own files too (predict_counts.c)
		[ "$h" = "${mod%%_*}_int" ] && [ "$(layer_of "$h")" = "$mine" ] && continue
		[ "${h%_int}" = "${mod%_sql}" ] && continue	# X_sql.c: X's entry points
		[ -f "src/$h.h" ] || continue	# PostgreSQL's own
		theirs=$(layer_of "$h")
		if [ -z "$theirs" ]; then
			echo "layers: $f includes $h.h, which is in no layer"
			status=1
		elif [ "$theirs" -gt "$mine" ]; then
			echo "layers: $f (layer $mine) includes $h.h (layer $theirs): dependencies point down only"
			status=1
		elif [ "$theirs" -eq 3 ] && [ "$mine" -eq 3 ]; then
			echo "layers: stage $f includes stage header $h.h: stages never include each other"
			status=1
		fi
	done
done
[ $status = 0 ] && echo "layers: every include points down"
exit $status
