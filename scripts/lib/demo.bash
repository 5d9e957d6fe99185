# Shared by scripts/demo and scripts/demo-servers (sourced, not run): stage headings, the demo shop
# database, and a summary of a run's events. Expects the repository root as the working directory.

# shellcheck disable=SC2034 # used by the scripts that source this file
demo_bin=.build/release
demo_dir=examples/demo

# A stage heading, bold on a terminal.
step() {
    if [[ -t 1 ]]; then printf '\n\033[1m== %s\033[0m\n' "$*"; else printf '\n== %s\n' "$*"; fi
}

# Builds examples/demo/shop.db from shop.sql when it is missing or older, and prints its row counts.
build_shop_db() {
    if [[ ! -f $demo_dir/shop.db || $demo_dir/shop.sql -nt $demo_dir/shop.db ]]; then
        rm -f "$demo_dir/shop.db.tmp"
        sqlite3 "$demo_dir/shop.db.tmp" < "$demo_dir/shop.sql" >/dev/null
        mv "$demo_dir/shop.db.tmp" "$demo_dir/shop.db"
        echo "built from $demo_dir/shop.sql (deterministic: the same rows on every machine)"
    else
        echo "up to date"
    fi
    local table
    for table in products customers orders; do
        printf '  %-9s %5s rows\n' "$table" "$(sqlite3 "$demo_dir/shop.db" "SELECT count(*) FROM $table")"
    done
}

# One line per step, artifact and the run's end, from the events osiris-exec printed (a file).
show_events() {
    local line event
    field() { sed -n "s/.*\"$1\":\\(\"[^\"]*\"\\|[0-9]*\\).*/\\1/p" | tr -d '"'; }
    while IFS= read -r line; do
        event=$(printf '%s' "$line" | field event)
        case "$event" in
            run_start) printf '  run %s started\n' "$(printf '%s' "$line" | field run_id)" ;;
            step_complete) printf '  %-18s %7s rows in, %7s rows out, %5s ms\n' \
                "$(printf '%s' "$line" | field step_id)" "$(printf '%s' "$line" | field rows_read)" \
                "$(printf '%s' "$line" | field rows_written)" "$(printf '%s' "$line" | field duration_ms)" ;;
            step_failed) printf '  %-18s FAILED: %s\n' "$(printf '%s' "$line" | field step_id)" "$line" ;;
            artifact_created) printf '  %-18s wrote %s (%s bytes)\n' "$(printf '%s' "$line" | field step_id)" \
                "$(printf '%s' "$line" | field path)" "$(printf '%s' "$line" | field bytes)" ;;
            run_end) printf '  run %s, exit %s, %s rows written in %s ms\n' "$(printf '%s' "$line" | field status)" \
                "$(printf '%s' "$line" | field exit_code)" "$(printf '%s' "$line" | field rows_written)" \
                "$(printf '%s' "$line" | field duration_ms)" ;;
        esac
    done < "$1"
    echo "  events: $(wc -l < "$1") JSON lines"
}
