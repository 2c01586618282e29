#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# check_layers.sh AGGREGATOR_DIR - the aggregator's stages call one way,
#   daemon -> http -> render -> store <- ingest
# (docs/ARCHITECTURE.md, "The shape"). A stage may include its own headers
# and those of the stages below it, never one above or beside it. Prints
# every include that breaks the rule and exits 1 if there is one.
set -euo pipefail
dir=${1:?usage: check_layers.sh AGGREGATOR_DIR}

declare -A allowed=(
    [store]="store"
    [ingest]="ingest store"
    [render]="render store"
    [http]="http render store"
    [daemon]="daemon http render store ingest"
)

bad=0
for stage in "${!allowed[@]}"; do
    [ -d "$dir/$stage" ] || { echo "check_layers: no stage folder $dir/$stage" >&2; exit 1; }
    while IFS= read -r hit; do
        file=${hit%%:*}
        target=$(sed -E 's/.*#include "([a-z_]+)\/.*/\1/' <<<"$hit")
        case " ${allowed[$stage]} " in
        *" $target "*) ;;
        *) echo "check_layers: ${file#"$dir"/} ($stage) includes a header of $target"; bad=1 ;;
        esac
    done < <(grep -HE '^#include "[a-z_]+/' "$dir/$stage"/*.[ch] || true)
done
# Every stage folder is known: a new one must be placed in the order above.
for d in "$dir"/*/; do
    s=$(basename "$d")
    [ -n "${allowed[$s]+x}" ] || { echo "check_layers: $s/ is not a known stage"; bad=1; }
done
[ "$bad" -eq 0 ] && echo "check_layers: every include follows daemon -> http -> render -> store <- ingest"
exit "$bad"
