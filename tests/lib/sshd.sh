# sshd.sh — a private sshd on 127.0.0.1 with throw-away keys (sourced after
# common.sh). start_sshd makes the keys $T/keys/host and $T/keys/user (whose
# public key is authorized), and sets $port and $sshd_pid. Nothing of the
# system's ssh configuration is used or changed. Skips when sshd is missing.

skip() { echo "SKIP: $*"; exit 77; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
sshd_pid=""
sshd_alive() { kill -0 "$sshd_pid" 2>/dev/null; }
sshd_up() { port_open "$port" || ! sshd_alive; }

# Runs sshd on $port with $T/sshd_config; returns 1 if it exits at once.
run_sshd() {
	"$SSHD" -f "$T/sshd_config" -D -e 2>>"$T/sshd.log" &
	sshd_pid=$!
	CLEANUP_PIDS="${CLEANUP_PIDS:-} $sshd_pid"
	wait_for 10 sshd_up || fail "sshd did not come up on port $port: $(cat "$T/sshd.log")"
	sshd_alive
}

start_sshd() {
	SSHD=$(command -v sshd || echo /usr/sbin/sshd)
	[ -x "$SSHD" ] || skip "sshd is not installed (openssh-server)"
	command -v ssh-keygen >/dev/null || skip "ssh-keygen is not installed"
	mkdir -p "$T/keys"
	chmod 700 "$T/keys"
	ssh-keygen -q -N '' -t ed25519 -f "$T/keys/host" -C tracefs-test-host
	ssh-keygen -q -N '' -t ed25519 -f "$T/keys/user" -C tracefs-test-user
	cp "$T/keys/user.pub" "$T/keys/authorized_keys"
	# sshd chroots its unprivileged child into this directory; Debian creates
	# it when the service starts, which it has not here.
	[ -d /run/sshd ] || install -d -m 755 /run/sshd
	local started=no attempt
	for attempt in 1 2 3 4 5; do
		port=$((20000 + RANDOM % 40000))
		port_open "$port" && continue
		cat >"$T/sshd_config" <<-EOF
			ListenAddress 127.0.0.1
			Port $port
			HostKey $T/keys/host
			PidFile $T/sshd.pid
			AuthorizedKeysFile $T/keys/authorized_keys
			StrictModes no
			UsePAM no
			PermitRootLogin yes
			PasswordAuthentication no
			KbdInteractiveAuthentication no
			PubkeyAuthentication yes
			Subsystem sftp internal-sftp
			LogLevel ERROR
		EOF
		"$SSHD" -t -f "$T/sshd_config" 2>"$T/sshd.log" ||
			skip "sshd rejects the configuration: $(cat "$T/sshd.log")"
		if run_sshd; then
			started=yes
			break
		fi
		note "sshd on port $port exited (attempt $attempt): $(tail -1 "$T/sshd.log")"
	done
	[ $started == yes ] || skip "cannot start sshd: $(cat "$T/sshd.log")"
	note "sshd pid $sshd_pid on 127.0.0.1:$port"
}
