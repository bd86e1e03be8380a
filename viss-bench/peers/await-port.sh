# Sourced by the bench scripts that start servers (bash).
#
# await_port PORT PID [SECONDS]: waits (SECONDS, default 30, at most) until something listens
# on 127.0.0.1:PORT; fails at once when the process PID has exited.
await_port() {
    local tries=$(( ${3:-30} * 10 ))
    for _ in $(seq 1 "$tries"); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
