#!/usr/bin/env bash
# make check-design: docs/DESIGN.md is the repository's copy of the contract
# (the workplace keeps the original outside the repository, at
# ../shared/DESIGN.md). When the original is there, this compares the two and
# fails on a difference, saying which is newer; in a clone of the repository
# alone there is nothing to compare with, and it says so and passes.
#
#   SHARED_DESIGN=/path/to/DESIGN.md make check-design   another original
set -euo pipefail

cd "$(dirname "$0")/.."
copy=docs/DESIGN.md
shared=${SHARED_DESIGN:-../shared/DESIGN.md}

[[ -f $copy ]] || {
	echo "check-design: $copy is missing" >&2
	exit 1
}
if [[ ! -f $shared ]]; then
	echo "check-design: no $shared (a clone of the repository alone): $copy is the contract, nothing to compare it with"
	exit 0
fi
if cmp -s "$shared" "$copy"; then
	echo "check-design: $copy is the same as $shared"
	exit 0
fi

# The original has only its file's modification time. The copy's date is its
# last commit's, unless it has uncommitted changes (then its file's): a
# checkout sets every file's modification time to the time of the checkout.
shared_t=$(stat -c %Y "$shared")
copy_t= copy_how=
if git diff --quiet HEAD -- "$copy" 2>/dev/null; then
	copy_t=$(git log -1 --format=%ct -- "$copy" 2>/dev/null || true)
	copy_how="last commit"
fi
if [[ -z $copy_t ]]; then
	copy_t=$(stat -c %Y "$copy")
	copy_how="file modified"
fi
when() { date -u -d "@$1" '+%Y-%m-%d %H:%M UTC'; }

diff -u --label "$copy ($copy_how $(when "$copy_t"))" --label "$shared (modified $(when "$shared_t"))" "$copy" "$shared" | head -n 80 || true
if ((shared_t > copy_t)); then
	echo "check-design: $copy differs from $shared, which is newer: copy it (cp $shared $copy) and bring the code and the README's changelog in line with the change" >&2
else
	echo "check-design: $copy differs from $shared and is newer: a change of the contract belongs in $shared (or undo it in the copy)" >&2
fi
exit 1
