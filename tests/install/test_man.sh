#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/install/test_man.sh - the manual pages of docs/man/:
#   - each is plain ASCII and renders with groff -man with every warning
#     enabled (-ww) and none printed;
#   - shmetricsd.8 names every option of 'shmetricsd --help';
#   - shmtool.1 names every option of 'shmtool --help' and of
#     'shmtool COMMAND --help', and has a subsection per command;
#   - shmetrics.3 names, in NAME and as "function()", every public function
#     declared in include/shmetrics.h.
# Options are looked for in the rendered text, as whole words (--slot is
# not found inside --slots).
#
# Usage: test_man.sh MAN_DIR SHMETRICSD SHMTOOL HEADER
# Exit status 0 when every page passes, 1 otherwise (every problem listed).
set -eu

[ $# -eq 4 ] || { echo "usage: $0 MAN_DIR SHMETRICSD SHMTOOL HEADER" >&2; exit 2; }
MAN=$1 SHMETRICSD=$2 SHMTOOL=$3 HEADER=$4
T=$(mktemp -d "${TMPDIR:-/tmp}/shmetrics-man.XXXXXX")
trap 'rm -rf "$T"' EXIT
LC_ALL=C
export LC_ALL
BAD=0

problem() {
    echo "test_man: FAIL: $*" >&2
    BAD=1
}

if ! command -v groff >/dev/null; then
    echo "test_man: FAIL: groff not found (tools/deps.sh installs groff-base)" >&2
    exit 1
fi

# render PAGE: the page as plain text, no hyphenation, lines long enough
# that no option is split.
render() { groff -man -Tascii -P-cbou -rLL=250n "$1" 2>/dev/null; }

# flags_of FILE: the options a --help text documents: every --word in it
# (outside the lines of its curl examples), and each -X of an "-X, --word"
# line.
flags_of() {
    grep -v '^ *curl ' "$1" | grep -oE -- '(^|[^A-Za-z0-9-])--[a-z][a-z0-9-]*' |
        sed 's/^[^-]*//' | sort -u
    sed -n 's/^ *\(-[A-Za-z]\), --.*/\1/p' "$1" | sort -u
}

# has_word TEXT WORD: WORD occurs in TEXT, not as part of a longer option.
has_word() { grep -qE -- "(^|[^A-Za-z0-9-])$2([^A-Za-z0-9-]|$)" "$1"; }

# check_flags PAGE_TEXT HELP WHAT: every flag of HELP is in PAGE_TEXT.
check_flags() {
    flags_of "$2" >"$T/flags"
    grep -qx -- '--help' "$T/flags" ||
        problem "$3: no --help found in its help text (extraction broken?)"
    while read -r f; do
        has_word "$1" "$f" || problem "$3 documents $f, its manual page does not"
    done <"$T/flags"
    echo "$3: $(wc -l <"$T/flags") options checked"
}

for page in shmetricsd.8 shmtool.1 shmetrics.3; do
    src=$MAN/$page
    [ -f "$src" ] || { problem "$src is missing"; continue; }
    if grep -n '[^[:print:][:space:]]' "$src" >"$T/nonascii"; then
        problem "$page has bytes that are not printable ASCII:"
        cat "$T/nonascii" >&2
    fi
    groff -man -ww -z "$src" >"$T/warn" 2>&1 || problem "groff failed on $page"
    if [ -s "$T/warn" ]; then
        problem "groff warns on $page:"
        cat "$T/warn" >&2
    fi
    render "$src" >"$T/$page.txt"
    [ -s "$T/$page.txt" ] || problem "$page renders to nothing"
done

# ---- shmetricsd(8) ----------------------------------------------------------

"$SHMETRICSD" --help >"$T/agg.help" || problem "shmetricsd --help failed"
check_flags "$T/shmetricsd.8.txt" "$T/agg.help" "shmetricsd --help"

# ---- shmtool(1) --------------------------------------------------------------

"$SHMTOOL" --help >"$T/tool.help" || problem "shmtool --help failed"
check_flags "$T/shmtool.1.txt" "$T/tool.help" "shmtool --help"
# The commands: the "Commands:" block of the help, up to its blank line.
sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z]*\) .*/\1/p' "$T/tool.help" >"$T/commands"
[ "$(wc -l <"$T/commands")" -ge 6 ] ||
    problem "shmtool --help lists $(wc -l <"$T/commands") commands (extraction broken?)"
while read -r cmd; do
    grep -qE "^\.SS $cmd( |$)" "$MAN/shmtool.1" || problem "shmtool.1 has no subsection for '$cmd'"
    [ "$cmd" = help ] && continue
    "$SHMTOOL" "$cmd" --help >"$T/tool-$cmd.help" || problem "shmtool $cmd --help failed"
    check_flags "$T/shmtool.1.txt" "$T/tool-$cmd.help" "shmtool $cmd --help"
done <"$T/commands"

# ---- shmetrics(3) ---------------------------------------------------------

# Public functions: shmet_<name>( on a line that starts at column 0 with a
# letter (a declaration or definition at file scope; comments, macros and
# bodies do not), internal shmet__ excluded.
grep -E '^[A-Za-z]' "$HEADER" | grep -oE '\bshmet_[a-z][a-z0-9_]*\(' | tr -d '(' |
    sort -u >"$T/functions"
[ "$(wc -l <"$T/functions")" -ge 15 ] ||
    problem "found $(wc -l <"$T/functions") public functions in $HEADER (extraction broken?)"
sed -n '/^\.SH NAME/,/^\.SH/p' "$MAN/shmetrics.3" >"$T/name-section"
while read -r fn; do
    grep -qF "$fn()" "$T/shmetrics.3.txt" || problem "shmetrics.3 does not describe $fn()"
    has_word "$T/name-section" "$fn" || problem "shmetrics.3 does not name $fn in NAME"
done <"$T/functions"
echo "shmetrics.h: $(wc -l <"$T/functions") public functions checked"

[ "$BAD" = 0 ] || exit 1
echo "test_man: all pages pass"
