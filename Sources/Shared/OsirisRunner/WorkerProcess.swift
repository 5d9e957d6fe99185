import OsirisCore
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How the host reaches a worker: a descriptor to write requests to and one to read messages from,
/// whatever carries them (a child's pipes, an E2B sandbox's process stream).
protocol WorkerTransport: Sendable {
    /// The host writes requests here.
    var requests: Int32 { get }
    /// The host reads messages here.
    var messages: Int32 { get }
    /// Closes the worker's input (a worker ends when it sees the end of it).
    func closeRequests()
    /// Ends the worker at once, whatever it is doing.
    func kill()
    /// Waits for the worker to end; returns its wait status.
    @discardableResult
    func wait() -> Int32
}

/// A transport's process: a child whose standard input and output carry the worker protocol. It
/// runs in a process group of its own, so a Ctrl-C on the terminal reaches only the host, which
/// sends `cancel`; its standard error is the host's.
final class WorkerProcess: WorkerTransport {
    /// The child's process id (also its process group).
    let pid: pid_t
    /// The host writes requests here (the child's standard input).
    let requests: Int32
    /// The host reads messages here (the child's standard output).
    let messages: Int32
    /// Set once the child is reaped: its pid (and process group) may then belong to another process.
    private let reaped = Atomic(false)

    private init(pid: pid_t, requests: Int32, messages: Int32) {
        self.pid = pid
        self.requests = requests
        self.messages = messages
    }

    /// Starts `arguments[0]` (a path, or a name looked up on the host's PATH) with `environment`.
    static func spawn(_ arguments: [String], environment: [String: String]) throws(SandboxError) -> WorkerProcess {
        var toChild: [Int32] = [-1, -1]
        var fromChild: [Int32] = [-1, -1]
        guard pipe(&toChild) == 0 else { throw SandboxError("cannot create a pipe: \(systemMessage(errno))", .software) }
        guard pipe(&fromChild) == 0 else {
            close(toChild[0])
            close(toChild[1])
            throw SandboxError("cannot create a pipe: \(systemMessage(errno))", .software)
        }
        // Other children started meanwhile must not hold these pipes open (the worker would never
        // see its input end).
        for descriptor in toChild + fromChild { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toChild[0], 0)
        posix_spawn_file_actions_adddup2(&actions, fromChild[1], 1)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The tools block SIGINT and SIGTERM for their signal thread; a child must not inherit that.
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGPIPE, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = arguments[0].contains("/")
            ? posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
            : posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, envp)
        close(toChild[0])
        close(fromChild[1])
        guard result == 0 else {
            close(toChild[1])
            close(fromChild[0])
            throw SandboxError("cannot start '\(arguments[0])': \(systemMessage(result))", .unavailable)
        }
        return WorkerProcess(pid: pid, requests: toChild[1], messages: fromChild[0])
    }

    /// Closes the child's input (a worker ends when it sees the end of it).
    func closeRequests() { close(requests) }

    /// Kills the child's whole process group (a transport's shell and what it started).
    func kill() {
        guard !reaped.load(ordering: .acquiring) else { return }
        _ = Glibc.kill(-pid, SIGKILL)
    }

    /// Waits for the child to end; returns its wait status.
    @discardableResult
    func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        reaped.store(true, ordering: .releasing)
        close(messages)
        return status
    }
}

/// bubblewrap (bwrap) as the default local sandbox: whether it works here, and its arguments.
enum Bubblewrap {
    /// The bwrap executable on PATH, when it is installed and allowed to create namespaces here
    /// (restricted containers refuse it).
    static func usable(environment: [String: String]) -> String? {
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/bwrap"
            guard access(candidate, X_OK) == 0 else { continue }
            guard let probe = try? WorkerProcess.spawn(
                [candidate, "--ro-bind", "/", "/", "--unshare-user-try", "--unshare-net", "--die-with-parent", "/bin/true"], environment: [:])
            else { return nil }
            probe.closeRequests()
            let status = probe.wait()
            return status == 0 ? candidate : nil
        }
        return nil
    }

    /// The bwrap command that starts `executable --worker`: read-only /usr and the folders of the
    /// libraries this very process maps (the worker is the same binary), a private /tmp capped at
    /// `temporaryBytes`, the files the steps read read-only, `scratch` (the worker's TMPDIR) and the
    /// folders of absolute output paths as the only writable host folders, the database relays'
    /// folder at `/relays`, no network but loopback unless `network`, a cleared environment, a new user namespace with an
    /// unprivileged uid and no capabilities, and death with the host.
    static func arguments(
        bwrap: String, executable: String, scratch: String, hostPaths: (read: [String], write: [String]), network: Bool,
        relays: String? = nil, temporaryBytes: Int = 256 << 20
    ) -> [String] {
        var arguments = [bwrap, "--ro-bind", "/usr", "/usr"]
        var bound: Set<String> = ["/usr"]
        for top in ["/lib", "/lib64", "/lib32", "/bin", "/sbin"] {
            var info = stat()
            guard lstat(top, &info) == 0 else { continue }
            if info.st_mode & S_IFMT == S_IFLNK {
                var target = [CChar](repeating: 0, count: 4096)
                let count = readlink(top, &target, target.count - 1)
                if count > 0 { arguments += ["--symlink", String(decoding: target[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self), top] }
            } else {
                arguments += ["--ro-bind", top, top]
                bound.insert(top)
            }
        }
        for file in ["/etc/ld.so.cache", "/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/ssl"] {
            arguments += ["--ro-bind-try", file, file]
        }
        arguments += [
            "--proc", "/proc", "--dev", "/dev", "--size", String(temporaryBytes), "--tmpfs", "/tmp",
            "--bind", scratch, "/sandbox",
        ]
        // The worker binary and its libraries outside /usr, bound after the private /tmp so that a
        // build under /tmp (a fresh clone, a CI runner) is not hidden by it.
        let executableFolder = FileSystem.directory(of: executable)
        for folder in [executableFolder] + mappedLibraryFolders() where !bound.contains(where: { folder == $0 || folder.hasPrefix($0 + "/") }) {
            arguments += ["--ro-bind", folder, folder]
            bound.insert(folder)
        }
        if let relays { arguments += ["--bind", relays, DatabaseRelays.workerFolder] }
        // The folders of absolute output paths, writable; then the inputs the steps read, read-only
        // where they are (the worker links the relative ones into its folder).
        for folder in hostPaths.write { arguments += ["--bind", folder, folder] }
        for input in hostPaths.read { arguments += ["--ro-bind", input, input] }
        arguments += [
            "--unshare-user", "--uid", "65534", "--gid", "65534", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try",
        ]
        if !network { arguments.append("--unshare-net") }
        arguments += [
            "--cap-drop", "ALL", "--die-with-parent", "--new-session", "--clearenv", "--setenv", "TMPDIR", "/sandbox",
            "--chdir", "/sandbox", executable, "--worker",
        ]
        return arguments
    }

    /// The folders of the shared libraries this process has mapped, outside /usr.
    static func mappedLibraryFolders() -> [String] {
        Set(mappedLibraries().filter { !$0.hasPrefix("/usr/") }.map(FileSystem.directory(of:))).sorted()
    }
}

/// The path of this process's executable.
func currentExecutable() -> String? {
    var buffer = [CChar](repeating: 0, count: 4096)
    let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard count > 0 else { return nil }
    return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
