# shellcheck shell=bash
# Functions shared by scripts/with-servers and scripts/test-server: finding the server binaries, running
# as the servers' unprivileged owner, and starting / stopping / killing one throwaway instance.
# Sourced, never run. Every function reads the OSIRIS_TEST_* variables that scripts/with-servers exports;
# the layout of OSIRIS_TEST_SERVERS_DIR is:
#   pg/   data  .s.PGSQL.<port>  server.log  server.log.pg_ctl  init.log
#   mysql/  my.cnf  data  mysqld.sock  mysqld.pid  server.log (error log)  console.log  init.log
# pg/ and mysql/ belong to the postgres and mysql system users when run as root.

servers_prog=${servers_prog:-${0##*/}}

# Prints a message on stderr, prefixed with the script's name.
servers_say() { echo "$servers_prog: $*" >&2; }

# Prints the highest installed PostgreSQL bin folder (the one holding initdb and pg_ctl).
servers_find_pg_bin() {
    local dir best=""
    if [[ -n ${OSIRIS_TEST_PG_BIN:-} && -x ${OSIRIS_TEST_PG_BIN}/pg_ctl ]]; then
        echo "$OSIRIS_TEST_PG_BIN"; return 0
    fi
    best=$(for dir in /usr/lib/postgresql/*/bin; do
               [[ -x $dir/initdb && -x $dir/pg_ctl && -x $dir/postgres ]] && echo "$dir"
           done | sort -V | tail -n 1)
    if [[ -z $best ]] && command -v pg_ctl >/dev/null && command -v initdb >/dev/null; then
        best=$(dirname "$(command -v pg_ctl)")
    fi
    [[ -n $best ]] && echo "$best"
}

# Prints the path of the first of the given programs found on PATH or in the sbin folders.
servers_find_prog() {
    local name dir
    for name in "$@"; do
        for dir in ${PATH//:/ } /usr/sbin /usr/local/sbin /sbin /usr/libexec; do
            if [[ -x $dir/$name && ! -d $dir/$name ]]; then echo "$dir/$name"; return 0; fi
        done
    done
    return 1
}

# Prints the MariaDB server binary.
servers_find_mariadbd() { servers_find_prog mariadbd mysqld; }

# Prints the MariaDB command-line client.
servers_find_mariadb() { servers_find_prog mariadb mysql; }

# Prints the MariaDB admin client.
servers_find_mariadb_admin() { servers_find_prog mariadb-admin mysqladmin; }

# Prints the user a server of the given kind (pg, mysql) runs as: its system user when we are root, else us.
servers_owner() {
    if [[ $(id -u) -ne 0 ]]; then id -un; return 0; fi
    local user
    case $1 in pg) user=postgres ;; mysql) user=mysql ;; esac
    if id -u "$user" >/dev/null 2>&1; then echo "$user"; else echo nobody; fi
}

# Sets the array servers_as_prefix to what runs a command as the given user: setpriv when we are root
# (it execs, so the process tree stays flat and $! is the server's pid), nothing otherwise.
servers_as_prefix_for() {
    servers_as_prefix=()
    if [[ $(id -u) -eq 0 && $1 != root ]]; then
        servers_as_prefix=(setpriv --reuid="$(id -u "$1")" --regid="$(id -g "$1")" --init-groups --)
    fi
}

# Runs a command as the given user.
servers_as() {
    servers_as_prefix_for "$1"; shift
    "${servers_as_prefix[@]}" "$@"
}

# Prints a free loopback TCP port below the ephemeral range, other than the ones given.
servers_free_port() {
    local port tries
    for ((tries = 0; tries < 200; tries++)); do
        port=$((20000 + RANDOM % 12000))
        [[ " $* " == *" $port "* ]] && continue
        # A refused connection means nobody listens there.
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
    done
    servers_say "no free loopback port found"; return 1
}

# Prints the last lines of a server's log on stderr.
servers_show_log() {
    [[ -s $1 ]] || return 0
    servers_say "last lines of $1:"
    tail -n 40 "$1" >&2
}

# Waits until the PostgreSQL instance accepts connections; returns 1 after the timeout or if it died.
servers_pg_wait() {
    local deadline=$((SECONDS + ${OSIRIS_TEST_SERVER_TIMEOUT:-60}))
    until "$OSIRIS_TEST_PG_BIN/pg_isready" -q -h "$OSIRIS_TEST_SERVERS_DIR/pg" -p "$OSIRIS_TEST_PG_PORT" -U postgres -d postgres; do
        ((SECONDS < deadline)) || return 1
        sleep 0.1
    done
}

# Starts the PostgreSQL instance of OSIRIS_TEST_PG_DATA and waits until it accepts connections.
servers_pg_start() {
    local owner log="$OSIRIS_TEST_SERVERS_DIR/pg/server.log"
    owner=$(stat -c %U "$OSIRIS_TEST_PG_DATA")
    if ! servers_as "$owner" "$OSIRIS_TEST_PG_BIN/pg_ctl" -D "$OSIRIS_TEST_PG_DATA" -l "$log" \
            -w -t "${OSIRIS_TEST_SERVER_TIMEOUT:-60}" start </dev/null >"$log.pg_ctl" 2>&1 \
        || ! servers_pg_wait; then
        servers_say "PostgreSQL did not start on 127.0.0.1:$OSIRIS_TEST_PG_PORT"
        servers_show_log "$log.pg_ctl"
        servers_show_log "$log"
        return 1
    fi
}

# Stops the PostgreSQL instance: mode fast (the default) or immediate (a crash, as for a killed server).
servers_pg_stop() {
    local mode=${1:-fast} owner pid
    [[ -f $OSIRIS_TEST_PG_DATA/postmaster.pid ]] || return 0
    owner=$(stat -c %U "$OSIRIS_TEST_PG_DATA")
    if servers_as "$owner" "$OSIRIS_TEST_PG_BIN/pg_ctl" -D "$OSIRIS_TEST_PG_DATA" -m "$mode" -w -t 30 stop \
            </dev/null >/dev/null 2>&1; then
        return 0
    fi
    pid=$(head -n 1 "$OSIRIS_TEST_PG_DATA/postmaster.pid" 2>/dev/null || true)
    if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
        servers_say "PostgreSQL did not stop; killing it"
        kill -KILL "$pid" 2>/dev/null || true
        servers_wait_gone "$pid" 10 || return 1
    fi
}

# Waits up to the given seconds for a process to end; returns 1 if it is still there.
servers_wait_gone() {
    local pid=$1 deadline=$((SECONDS + $2))
    while kill -0 "$pid" 2>/dev/null; do
        ((SECONDS < deadline)) || return 1
        sleep 0.1
    done
}

# Prints the pid of the running MariaDB instance, if any.
servers_mysql_pid() {
    local pid
    pid=$(cat "$OSIRIS_TEST_SERVERS_DIR/mysql/mysqld.pid" 2>/dev/null || true)
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# Starts the MariaDB instance of OSIRIS_TEST_SERVERS_DIR/mysql/my.cnf and waits until it answers a ping.
servers_mysql_start() {
    local owner mariadbd admin pid deadline dir="$OSIRIS_TEST_SERVERS_DIR/mysql"
    local log="$dir/server.log"
    mariadbd=$(servers_find_mariadbd) || { servers_say "mariadbd not found"; return 1; }
    admin=$(servers_find_mariadb_admin) || { servers_say "mariadb-admin not found"; return 1; }
    owner=$(stat -c %U "$OSIRIS_TEST_MYSQL_DATA")
    rm -f "$dir/mysqld.pid"
    # Its own session, so a Ctrl-C meant for the command does not reach the server.
    servers_as_prefix_for "$owner"
    "${servers_as_prefix[@]}" setsid "$mariadbd" --defaults-file="$dir/my.cnf" </dev/null >>"$dir/console.log" 2>&1 &
    pid=$!
    deadline=$((SECONDS + ${OSIRIS_TEST_SERVER_TIMEOUT:-60}))
    until "$admin" --no-defaults --socket="$OSIRIS_TEST_MYSQL_SOCKET" -uroot --connect-timeout=2 ping \
            >/dev/null 2>&1; do
        if ! kill -0 "$pid" 2>/dev/null || ((SECONDS >= deadline)); then
            servers_say "MariaDB did not start on 127.0.0.1:$OSIRIS_TEST_MYSQL_PORT"
            kill -KILL "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
            servers_show_log "$dir/console.log"
            servers_show_log "$log"
            return 1
        fi
        sleep 0.1
    done
}

# Stops the MariaDB instance: mode fast (SIGTERM, a clean shutdown; the default) or immediate (SIGKILL).
servers_mysql_stop() {
    local mode=${1:-fast} pid
    pid=$(servers_mysql_pid) || return 0
    if [[ $mode == immediate ]]; then
        kill -KILL "$pid" 2>/dev/null || true
        servers_wait_gone "$pid" 10
        return
    fi
    kill -TERM "$pid" 2>/dev/null || true
    if ! servers_wait_gone "$pid" 60; then
        servers_say "MariaDB did not stop; killing it"
        kill -KILL "$pid" 2>/dev/null || true
        servers_wait_gone "$pid" 10
    fi
}
