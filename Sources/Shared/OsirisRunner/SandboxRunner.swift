import OML
import OsirisCore
import OsirisDrivers
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A sandbox that could not be started or spoken to (exit 69 when the worker or the isolation
/// asked for is unavailable, 70 when the worker breaks the protocol).
public struct SandboxError: OsirisError {
    /// What went wrong.
    public var description: String
    /// The exit status.
    public var exitStatus: ExitStatus

    /// Creates a sandbox error.
    public init(_ description: String, _ exitStatus: ExitStatus = .unavailable) {
        self.description = description
        self.exitStatus = exitStatus
    }
}

/// How `--sandbox` runs the worker.
public struct SandboxOptions: Sendable {
    /// The transport command (`ssh etl01 osiris-exec --worker`), started through `/bin/sh -c`; nil
    /// runs this same binary locally, under bubblewrap when it works here, else as a plain child.
    public var command: String?
    /// Refuse to run when the local sandbox cannot isolate the worker (`--require-isolation`).
    public var requireIsolation = false
    /// The host's environment: a transport command gets only its non-secret basics.
    public var environment: [String: String] = [:]

    /// With `command` nil, run the worker in an E2B sandbox rather than locally (`--sandbox e2b`).
    public var e2b: E2BSettings?
    /// Receives what a remote worker writes to its standard error (a local child writes to the host's).
    public var onWorkerStandardError: (@Sendable ([UInt8]) -> Void)?

    /// How long the worker has to answer `hello` before the transport is killed.
    package var startTimeoutMilliseconds = 30_000
    /// How often a worker is asked to send `heartbeat` while it lives.
    package var heartbeatMilliseconds = 10_000
    /// How long a worker that sends heartbeats may stay silent before the transport is killed.
    package var idleTimeoutMilliseconds = 60_000

    /// Options for `command`.
    public init(command: String?) { self.command = command }

    /// The host variables a transport command inherits: what ssh, docker and kubectl need to find
    /// themselves, their keys and their clusters; everything else (connection passwords among it)
    /// stays behind.
    public static let forwardedVariables = [
        "PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TERM", "TMPDIR", "SSH_AUTH_SOCK",
        "DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CONTEXT", "KUBECONFIG",
    ]
}

/// Runs a manifest through a worker (DESIGN.md §7.6, osiris-worker(7)), the "transparent proxy": it
/// writes the run directory and the event stream exactly as `Runner` would, with `adapter: sandbox`
/// and `isolation` in `run_start`, and brings the files the writers produce back to the same host
/// paths, atomically, with a copy under the run directory's `artifacts/<step>/`.
///
/// Before the run it resolves each step's connection (secrets go to the worker only inside
/// `prepare`), uploads the relative-path inputs the steps read (CSV files, SQLite databases) with
/// `put_file`, and creates the output folders that exist here; absolute paths are used as they are
/// on the worker's side.
///
/// The process must ignore SIGPIPE (the tools do, through `ToolRunner`): a worker that dies leaves
/// a pipe whose writes must fail with EPIPE instead of ending the host.
public final class SandboxRunner: Sendable {
    private let manifest: Manifest
    private let options: RunOptions
    private let sandbox: SandboxOptions
    private let cancellation: CancellationToken
    private let masker: SecretMasker

    /// A sandbox runner; `masker` gets every secret the connections resolve to.
    public init(manifest: Manifest, options: RunOptions, sandbox: SandboxOptions, cancellation: CancellationToken, masker: SecretMasker) {
        self.manifest = manifest
        self.options = options
        self.sandbox = sandbox
        self.cancellation = cancellation
        self.masker = masker
    }

    /// Runs the manifest in a worker and returns how the run ended. Throws before any event when the
    /// worker cannot be started or prepared, or the run directory cannot be created.
    public func run() throws(SandboxError) -> RunOutcome {
        let started = MonotonicClock.milliseconds()
        var prepared: [String: PreparedConnection] = [:]
        for step in manifest.steps {
            let family = ComponentRegistry.builtin.spec(named: step.component)?.family
            do throws(StepError) {
                if let connection = try options.resolver.resolve(step, family: family) { prepared[step.id] = .resolved(connection) }
            } catch {
                prepared[step.id] = .failed(error)
            }
        }

        let inputPaths = inputs()
        let (process, isolation, shared, relays) = try startWorker(connections: &prepared)
        defer { if let shared { FileSystem.remove(shared.host) } }
        defer { relays?.close() }
        let channel = Channel(process: process)
        let watchdog = cancellation.onCancel { [cancellation] in
            channel.notify("cancel", ["exit_code": .int(Int(cancellation.exitStatus.rawValue))])
            // A worker that does not stop (a remote host that went away) must not hold the host.
            startThread {
                usleep(UInt32(Runner.abortGraceMilliseconds + 3000) * 1000)
                process.kill()
            }
        }
        defer { cancellation.remove(watchdog) }
        defer {
            channel.notify("shutdown", [:])
            process.closeRequests()
            process.wait()
        }

        // A transport that never starts a worker (an ssh waiting for a password, a container that
        // hangs) must not hold the host for ever: its process group is killed after the timeout.
        let answered = Atomic(false)
        let helloSignal = ChangeSignal()
        let timedOut = Atomic(false)
        let timeout = sandbox.startTimeoutMilliseconds
        startThread {
            let deadline = MonotonicClock.milliseconds() + timeout
            if helloSignal.wait(deadline: deadline, until: { answered.load(ordering: .acquiring) ? true : nil }) == nil {
                timedOut.store(true, ordering: .releasing)
                process.kill()
            }
        }
        defer {
            answered.store(true, ordering: .releasing)
            helloSignal.notify()
        }
        // A worker that stops answering after hello (a remote host gone silent, a hung transport)
        // is killed once it misses its heartbeats; `silent` says so in the error.
        let silent = SilenceWatch()
        defer { silent.finish() }
        do throws(SandboxError) {
            let hello: JSONValue
            do throws(SandboxError) {
                hello = try channel.call("hello", ["protocol": .int(WorkerProtocol.version), "heartbeat_ms": .int(sandbox.heartbeatMilliseconds)])
            } catch {
                if timedOut.load(ordering: .acquiring) {
                    let limit = timeout % 1000 == 0 ? "\(timeout / 1000) s" : "\(timeout) ms"
                    throw SandboxError("no worker answered within \(limit) (is '\(sandbox.command ?? "osiris-exec --worker")' starting 'osiris-exec --worker'?)")
                }
                throw error
            }
            answered.store(true, ordering: .releasing)
            helloSignal.notify()
            guard hello["protocol"]?.intValue == WorkerProtocol.version else {
                throw SandboxError("the worker speaks protocol \(hello["protocol"].map(JSONWriter.canonicalString) ?? "none"), not \(WorkerProtocol.version)")
            }
            if hello["capabilities"]?.arrayValue?.contains(.string("heartbeat")) == true { watchSilence(channel: channel, process: process, silent: silent) }
            // A worker on this machine reads the inputs where they are (bound read-only under
            // bubblewrap); SQLite targets, which it changes, are always its own copies.
            let targets = Set(databaseTargets().map(\.path))
            var links: [JSONValue] = []
            if shared != nil {
                for path in inputPaths where !targets.contains(path) {
                    links.append(["path": .string(path), "target": .string(absolutePath(path))])
                }
            }
            try upload(shared == nil ? inputPaths : inputPaths.filter(targets.contains), channel: channel)
            try channel.call("prepare", [
                "links": .array(links),
                "prepare": PrepareParams(manifest: manifest, connections: prepared).json,
                "directories": .array(outputFolders().map(JSONValue.string)),
                "returns": .array(databaseTargets().map { ["step_id": .string($0.step), "path": .string($0.path)] }),
            ])
        } catch {
            // Whatever the transport is doing, it is not serving this run.
            process.kill()
            let reason = silent.expired ? silent.reason(sandbox.idleTimeoutMilliseconds) : masker.mask(error.description)
            throw SandboxError("cannot start the sandbox worker: \(reason)", error.exitStatus)
        }

        let directory: RunDirectory
        do {
            if let resume = options.resume {
                directory = try RunDirectory.resume(path: resume, manifest: manifest, masker: masker)
            } else {
                directory = try RunDirectory.create(
                    parent: options.runDirectoryParent, runID: options.runID ?? RunDirectory.newRunID(), manifest: manifest, masker: masker)
            }
        } catch {
            throw SandboxError(error.message, error.exitStatus)
        }
        directory.log("run \(directory.runID) of '\(manifest.name)' runs in a sandbox worker (isolation: \(isolation))")
        if let relays, relays.count > 0 || relays.hostNetwork {
            directory.log(relays.hostNetwork
                ? "a database connection cannot go through a relay (TLS, a socket or a DSN of its own): the worker keeps the host's network"
                : "database steps reach their servers through \(relays.count) relay\(relays.count == 1 ? "" : "s") on Unix sockets in \(relays.folder ?? ""); the worker has no network")
        }
        let eventsDescriptor = open(directory.eventsPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard eventsDescriptor >= 0 else { throw SandboxError("cannot create '\(directory.eventsPath)': \(systemMessage(errno))", .cannotCreate) }
        defer { close(eventsDescriptor) }
        let sinks = options.eventSinks + [DescriptorEventSink(descriptor: eventsDescriptor)]
        let firstSeq = options.resume == nil ? 1 : directory.lastEventSeq() + 1
        let seen = TrackedMutex((lastSeq: firstSeq - 1, ended: false))

        var params = RunParams(runID: directory.runID, adapter: "sandbox", isolation: isolation, jobs: options.jobs)
        if options.resume != nil {
            // The worker skips the writers that committed here and numbers its events after ours.
            params.resume = ResumeParams(committed: manifest.steps.map(\.id).filter(directory.isCommitted), firstSeq: firstSeq)
        }
        var outcome: (status: String, exit: ExitStatus, failed: [FailedStep])?
        var breakage: String?
        do {
            let result = try channel.call("run", params.json) { event in
                let line = JSONWriter.line(masker.mask(event))
                seen.withLock { seen in
                    seen.lastSeq = event["seq"]?.intValue ?? seen.lastSeq
                    if event["event"]?.stringValue == "run_end" { seen.ended = true }
                }
                for sink in sinks { try? sink.write(line: line) }
                if event["event"]?.stringValue == "step_progress", let onProgress = options.onProgress {
                    onProgress("\(event["step_id"]?.stringValue ?? ""): \(event["rows"]?.intValue ?? 0) rows")
                }
            }
            let failed = (result["failed_steps"]?.arrayValue ?? []).map {
                FailedStep(stepID: $0["step_id"]?.stringValue ?? "", code: $0["code"]?.stringValue ?? "", message: masker.mask($0["message"]?.stringValue ?? ""))
            }
            outcome = (result["status"]?.stringValue ?? "failed",
                       ExitStatus(rawValue: Int32(result["exit_code"]?.intValue ?? 70)) ?? .software, failed)
        } catch {
            breakage = masker.mask(error.description)
        }

        if outcome != nil, !silent.expired {
            do {
                try bringBack(channel: channel, directory: directory, shared: shared)
            } catch {
                breakage = masker.mask(error.description)
            }
        }
        if var breakage {
            if silent.expired { breakage = silent.reason(sandbox.idleTimeoutMilliseconds) }
            process.kill()
            directory.log("the sandbox worker failed: \(breakage)")
            let (lastSeq, ended) = seen.withLock { ($0.lastSeq, $0.ended) }
            let status = cancellation.isCancelled ? "aborted" : "failed"
            let exit = cancellation.isCancelled ? cancellation.exitStatus : .unavailable
            if !ended {
                let stream = EventStream(runID: directory.runID, sinks: sinks, masker: masker, firstSeq: lastSeq + 1)
                stream.emit("run_end", [
                    "status": .string(status), "exit_code": .int(Int(exit.rawValue)),
                    "duration_ms": .int(MonotonicClock.milliseconds() - started), "rows_written": 0,
                ])
            }
            try? directory.saveStatus(status)
            return RunOutcome(
                runID: directory.runID, directory: directory.path, status: status, exitStatus: exit,
                failedSteps: (outcome?.failed ?? []) + [FailedStep(stepID: "sandbox", code: "CONNECTION", message: breakage)])
        }
        return RunOutcome(
            runID: directory.runID, directory: directory.path, status: outcome!.status, exitStatus: outcome!.exit, failedSteps: outcome!.failed)
    }

    // MARK: Silence

    /// Whether the host gave up on a silent worker, and the thread that watches for it.
    private final class SilenceWatch: Sendable {
        private let state = Atomic(0)
        let signal = ChangeSignal()

        /// The worker missed its heartbeats and was killed.
        var expired: Bool { state.load(ordering: .acquiring) == 2 }
        /// The run is over: the watch ends.
        var finished: Bool { state.load(ordering: .acquiring) == 1 }

        func expire() { _ = state.compareExchange(expected: 0, desired: 2, ordering: .acquiringAndReleasing) }

        func finish() {
            _ = state.compareExchange(expected: 0, desired: 1, ordering: .acquiringAndReleasing)
            signal.notify()
        }

        func reason(_ timeout: Int) -> String {
            "the worker stopped answering: no message in \(timeout % 1000 == 0 ? "\(timeout / 1000) s" : "\(timeout) ms")"
        }
    }

    /// Kills the transport when no message has come from the worker for the idle timeout.
    private func watchSilence(channel: Channel, process: any WorkerTransport, silent: SilenceWatch) {
        let timeout = sandbox.idleTimeoutMilliseconds
        startThread {
            while true {
                let deadline = channel.lastHeard + timeout
                if silent.signal.wait(deadline: deadline, until: { silent.finished ? true : nil }) != nil { return }
                if MonotonicClock.milliseconds() >= channel.lastHeard + timeout {
                    silent.expire()
                    process.kill()
                    return
                }
            }
        }
    }

    // MARK: Starting the worker

    /// A folder the host and a worker on this machine share: the worker's TMPDIR, as the host sees
    /// it and as the worker does.
    struct SharedFolder {
        var host: String
        var worker: String
    }

    private func startWorker(
        connections: inout [String: PreparedConnection]
    ) throws(SandboxError) -> (any WorkerTransport, String, SharedFolder?, RelaySet?) {
        if let e2b = sandbox.e2b {
            guard let executable = currentExecutable() else { throw SandboxError("cannot find this program's executable (/proc/self/exe)", .software) }
            do throws(SandboxError) {
                let worker = try E2BWorker.start(
                    settings: e2b, executable: executable, libraries: mappedLibraries(), onStandardError: sandbox.onWorkerStandardError)
                return (worker, "e2b", nil, nil)
            } catch {
                throw SandboxError("cannot start the sandbox worker: \(masker.mask(error.description))", error.exitStatus)
            }
        }
        if let command = sandbox.command {
            var environment: [String: String] = [:]
            for name in SandboxOptions.forwardedVariables { environment[name] = sandbox.environment[name] }
            return (try WorkerProcess.spawn(["/bin/sh", "-c", command], environment: environment), "external", nil, nil)
        }
        guard let executable = currentExecutable() else { throw SandboxError("cannot find this program's executable (/proc/self/exe)", .software) }
        // Beside the run directories, so the files the writers produce are renamed into place
        // rather than copied (the same file system, as a rule).
        let scratch: String
        do {
            try FileSystem.createDirectories(options.runDirectoryParent)
            scratch = absolutePath(try FileSystem.temporaryDirectory(in: options.runDirectoryParent, prefix: ".sandbox-"))
        } catch {
            throw SandboxError("cannot create the sandbox's folder: \(error)", .cannotCreate)
        }
        do throws(SandboxError) {
            if let bwrap = Bubblewrap.usable(environment: sandbox.environment) {
                // The network is loopback only: database steps reach their servers through relays
                // on Unix sockets; a connection a relay cannot carry (TLS that a Unix socket would
                // drop, a socket or a DSN of its own) keeps the host's network for the run.
                let relays = RelaySet()
                var network = false
                do throws(SandboxError) {
                    for (stepID, connection) in connections.sorted(by: { $0.key < $1.key }) {
                        guard case .resolved(let resolved) = connection, resolved.family != "sqlite", resolved.family != "filesystem" else { continue }
                        guard let plan = DatabaseRelays.plan(resolved, index: relays.count + 1, folder: DatabaseRelays.workerFolder) else {
                            network = true
                            relays.hostNetwork = true
                            continue
                        }
                        try relays.open(socket: plan.socket, host: plan.host, port: plan.port)
                        var rewritten = resolved
                        rewritten.fields = plan.fields
                        connections[stepID] = .resolved(rewritten)
                    }
                    let arguments = Bubblewrap.arguments(
                        bwrap: bwrap, executable: executable, scratch: scratch, hostPaths: hostPathsForBubblewrap(), network: network,
                        relays: relays.folder)
                    return (try WorkerProcess.spawn(arguments, environment: [:]), "bwrap", SharedFolder(host: scratch, worker: "/sandbox"),
                            relays)
                } catch {
                    relays.close()
                    throw error
                }
            }
            if sandbox.requireIsolation {
                throw SandboxError("--require-isolation: bubblewrap (bwrap) is not installed or not allowed here, so the worker cannot be isolated")
            }
            return (try WorkerProcess.spawn([executable, "--worker"], environment: ["TMPDIR": scratch]), "none",
                    SharedFolder(host: scratch, worker: scratch), nil)
        } catch {
            FileSystem.remove(scratch)
            throw error
        }
    }

    /// The relays of one run and the owner-only folder of their sockets (short, under /tmp: a
    /// socket's path has at most 107 bytes), bound into bubblewrap at `/relays`.
    final class RelaySet: Sendable {
        private let state = Mutex<(folder: String?, relays: [SocketRelay])>((nil, []))
        private let network = Atomic(false)

        /// Whether a connection could not be relayed, so the worker keeps the host's network.
        var hostNetwork: Bool {
            get { network.load(ordering: .acquiring) }
            set { network.store(newValue, ordering: .releasing) }
        }

        /// How many relays are open.
        var count: Int { state.withLock { $0.relays.count } }
        /// The sockets' folder, once a relay is open.
        var folder: String? { state.withLock { $0.folder } }

        /// Opens a relay listening on `socket` (relative to the folder) for `host`:`port`.
        func open(socket: String, host: String, port: Int) throws(SandboxError) {
            var folder = self.folder
            if folder == nil {
                do {
                    folder = try FileSystem.temporaryDirectory(in: "/tmp", prefix: "osiris-relay-")
                } catch {
                    throw SandboxError("cannot create the folder of the database relays: \(error)", .cannotCreate)
                }
                state.withLock { $0.folder = folder }
            }
            let path = folder! + "/" + socket
            do {
                try FileSystem.createDirectories(FileSystem.directory(of: path))
            } catch {
                throw SandboxError("cannot create the folder of the database relays: \(error)", .cannotCreate)
            }
            let relay = try SocketRelay(path: path, host: host, port: port)
            state.withLock { $0.relays.append(relay) }
        }

        /// Closes every relay and removes the folder.
        func close() {
            let (folder, relays) = state.withLock { state in
                defer { state = (nil, []) }
                return state
            }
            for relay in relays { relay.stop() }
            if let folder { FileSystem.remove(folder) }
        }
    }

    // MARK: Files

    /// The relative paths of the files the steps read: CSV inputs and SQLite databases that exist here.
    private func inputs() -> [String] {
        filesRead().filter { isContainedRelativePath($0) && access($0, R_OK) == 0 }
    }

    /// Every file the steps read (CSV inputs, SQLite databases, also those a writer changes), as the
    /// steps name them, relative or absolute.
    private func filesRead() -> [String] {
        var paths: [String] = []
        for step in manifest.steps where step.mode != .write || step.component.hasPrefix("sqlite.") {
            let family = ComponentRegistry.builtin.spec(named: step.component)?.family
            let connection = (try? options.resolver.resolve(step, family: family)) ?? nil
            var path: String?
            if family == "filesystem", var file = step.config["path"]?.stringValue {
                if !file.hasPrefix("/"), let base = connection?.fields["base_dir"]?.stringValue ?? connection?.fields["path"]?.stringValue {
                    file = base + "/" + file
                }
                path = file
            } else if family == "sqlite" {
                path = step.config["path"]?.stringValue ?? connection?.fields["path"]?.stringValue
            }
            if let path, !path.isEmpty, !paths.contains(path) { paths.append(path) }
        }
        return paths
    }

    /// What bubblewrap shows a worker besides its own folder: every file the steps read that
    /// exists here, read-only at its absolute path (the worker links the relative ones), and the
    /// existing folders of absolute paths the writers write, writable, since a local run writes there.
    private func hostPathsForBubblewrap() -> (read: [String], write: [String]) {
        let read = filesRead().map(absolutePath).filter { access($0, R_OK) == 0 }
        var write: [String] = []
        for step in manifest.steps where step.mode == .write {
            let family = ComponentRegistry.builtin.spec(named: step.component)?.family
            guard family == "filesystem" || family == "sqlite" else { continue }
            let connection = family == "sqlite" ? ((try? options.resolver.resolve(step, family: family)) ?? nil) : nil
            guard let path = step.config["path"]?.stringValue ?? connection?.fields["path"]?.stringValue, path.hasPrefix("/") else { continue }
            let folder = FileSystem.directory(of: path)
            if access(folder, W_OK) == 0, !write.contains(folder) { write.append(folder) }
        }
        return (read, write)
    }

    /// The SQLite databases writers change in place (relative paths): uploaded first when they
    /// exist, and brought back once their writer completes.
    private func databaseTargets() -> [(step: String, path: String)] {
        manifest.steps.compactMap { step in
            guard step.mode == .write, ComponentRegistry.builtin.spec(named: step.component)?.family == "sqlite" else { return nil }
            let connection = (try? options.resolver.resolve(step, family: "sqlite")) ?? nil
            guard let path = step.config["path"]?.stringValue ?? connection?.fields["path"]?.stringValue,
                  isContainedRelativePath(path) else { return nil }
            return (step.id, path)
        }
    }

    /// The relative folders writers write into that exist here, so the worker has them too.
    private func outputFolders() -> [String] {
        manifest.steps.compactMap { step in
            guard step.mode == .write, let path = step.config["path"]?.stringValue, isContainedRelativePath(path) else { return nil }
            let folder = FileSystem.directory(of: path)
            return folder != "." && access(folder, F_OK) == 0 ? folder : nil
        }
    }

    private func upload(_ paths: [String], channel: Channel) throws(SandboxError) {
        for path in paths {
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { continue }
            defer { close(descriptor) }
            var hasher = Fingerprint.Hasher()
            var buffer = [UInt8](repeating: 0, count: WorkerProtocol.chunkSize)
            var offset = 0
            while true {
                var filled = 0
                while filled < buffer.count {
                    let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + filled, $0.count - filled) }
                    if count < 0, errno == EINTR { continue }
                    guard count >= 0 else { throw SandboxError("cannot read '\(path)': \(systemMessage(errno))", .noInput) }
                    if count == 0 { break }
                    filled += count
                }
                buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<filled])) }
                var params: [String: JSONValue] = ["path": .string(path), "offset": .int(offset)]
                let last = filled < buffer.count
                if last { params["sha256"] = .string(hasher.finalize()) }
                try channel.call("put_file", .object(params), data: Base64.encode(buffer[0..<filled]))
                offset += filled
                if last { break }
            }
        }
    }

    /// Downloads every artifact: writer outputs to their host paths (atomically) and into
    /// `artifacts/<step>/`, the worker's `status.json` over the host's, its log after the host's lines.
    private func bringBack(channel: Channel, directory: RunDirectory, shared: SharedFolder?) throws(SandboxError) {
        let listing = try channel.call("list_artifacts", [:])
        for artifact in (listing["artifacts"]?.arrayValue ?? []).map(WorkerArtifact.init(json:)) {
            if shared != nil, artifact.kind == "output", artifact.path.hasPrefix("/"), artifact.localPath == artifact.path {
                // A worker on this machine wrote an absolute path where a local run writes it.
                try record(artifact, directory: directory)
                continue
            }
            if let shared, artifact.kind == "output", artifact.localPath.hasPrefix(shared.worker + "/") {
                let file = shared.host + artifact.localPath.dropFirst(shared.worker.count)
                if try move(file, artifact, directory: directory) { continue }
            }
            let bytes = try download(artifact, channel: channel)
            do {
                if artifact.kind == "run" {
                    if artifact.path == "status.json" {
                        _ = try AtomicFile.write(bytes, to: directory.path + "/status.json")
                    } else if artifact.path == "osiris.log" {
                        let log = open(directory.path + "/osiris.log", O_WRONLY | O_APPEND | O_CLOEXEC)
                        if log >= 0 {
                            _ = try? FileDescriptorOutput(descriptor: log).write(bytes)
                            close(log)
                        }
                    }
                    continue
                }
                let name = artifact.path.split(separator: "/").last.map(String.init) ?? "artifact"
                let copyFolder = directory.artifactsPath(step: artifact.stepID)
                try FileSystem.createDirectories(copyFolder)
                try writeAtomically(bytes, to: artifact.path)
                let copy = copyFolder + "/" + name
                unlink(copy)
                if link(artifact.path, copy) != 0 { try writeAtomically(bytes, to: copy) }
            } catch {
                throw SandboxError("cannot write '\(artifact.path)': \(error)", .cannotCreate)
            }
        }
    }

    /// Renames a file the worker wrote in the shared folder into place and links the run
    /// directory's copy to it; false when the file cannot be renamed there (another file system).
    private func move(_ file: String, _ artifact: WorkerArtifact, directory: RunDirectory) throws(SandboxError) -> Bool {
        var info = stat()
        guard stat(file, &info) == 0, Int(info.st_size) == artifact.bytes else {
            throw SandboxError("'\(artifact.path)' is not in the sandbox's folder as the worker listed it", .software)
        }
        guard rename(file, artifact.path) == 0 else { return false }
        try record(artifact, directory: directory)
        return true
    }

    /// Links (else copies) a file in place into the run directory's `artifacts/<step>/`.
    private func record(_ artifact: WorkerArtifact, directory: RunDirectory) throws(SandboxError) {
        let copyFolder = directory.artifactsPath(step: artifact.stepID)
        let copy = copyFolder + "/" + (artifact.path.split(separator: "/").last.map(String.init) ?? "artifact")
        do {
            try FileSystem.createDirectories(copyFolder)
            unlink(copy)
            if link(artifact.path, copy) != 0 {
                try writeAtomically(try InputFile.read(artifact.path), to: copy)
            }
        } catch {
            throw SandboxError("cannot record '\(artifact.path)' under '\(copyFolder)': \(error)", .cannotCreate)
        }
    }

    private func writeAtomically(_ bytes: [UInt8], to path: String) throws(OutputFileError) {
        let file = try AtomicOutputFile(path: path)
        try file.write(bytes)
        try file.commit()
    }

    private func download(_ artifact: WorkerArtifact, channel: Channel) throws(SandboxError) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(artifact.bytes)
        while true {
            let chunk = try channel.call("read_artifact", [
                "kind": .string(artifact.kind), "path": .string(artifact.path), "offset": .int(bytes.count),
                "length": .int(WorkerProtocol.chunkSize),
            ])
            guard let data = Base64.decode(chunk["data"]?.stringValue ?? "") else {
                throw SandboxError("the worker sent '\(artifact.path)' damaged (not base64)", .software)
            }
            bytes += data
            if chunk["eof"]?.boolValue != false || data.isEmpty { break }
        }
        let digest = Fingerprint.sha256(bytes)
        guard digest == artifact.sha256 else {
            throw SandboxError("'\(artifact.path)' arrived damaged: its SHA-256 is \(digest), not \(artifact.sha256)", .ioError)
        }
        return bytes
    }

    private func absolutePath(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buffer, buffer.count) != nil else { return path }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) + "/" + path
    }

    // MARK: The channel

    /// Requests to the worker and its answers; requests may be sent from any thread (cancel comes
    /// from the signal thread), answers are read by the one thread that calls `call`.
    private final class Channel: Sendable {
        private let output: TrackedMutex<FileDescriptorOutput?>
        private let reader: TrackedMutex<LineReader>
        private let nextID = TrackedMutex(1)
        private let heard = Atomic(MonotonicClock.milliseconds())

        /// When the last message (or the last request sent) was, in `MonotonicClock` milliseconds.
        var lastHeard: Int { heard.load(ordering: .acquiring) }

        init(process: any WorkerTransport) {
            output = TrackedMutex(FileDescriptorOutput(descriptor: process.requests))
            reader = TrackedMutex(LineReader(descriptor: process.messages))
        }

        /// Sends a request whose answer nobody waits for (cancel, shutdown).
        func notify(_ method: String, _ params: JSONValue) {
            let id = nextID.withLock { id in
                defer { id += 1 }
                return id
            }
            send(.request(id, method, params))
        }

        private func send(_ message: WorkerMessage) {
            let line = message.line
            output.withLock { output in _ = try? output?.write(line) }
        }

        /// Sends a request and reads messages until its answer, handing `event` notifications to `onEvent`.
        @discardableResult
        func call(
            _ method: String, _ params: JSONValue, data: String? = nil, onEvent: (JSONValue) -> Void = { _ in }
        ) throws(SandboxError) -> JSONValue {
            let id = nextID.withLock { id in
                defer { id += 1 }
                return id
            }
            let request = WorkerMessage.request(id, method, params)
            let line = data.map(request.line(withData:)) ?? request.line
            output.withLock { output in _ = try? output?.write(line) }
            return try reader.withLock { reader throws(SandboxError) -> JSONValue in
                while let line = reader.next() {
                    heard.store(MonotonicClock.milliseconds(), ordering: .releasing)
                    guard !line.isEmpty else { continue }
                    let message: WorkerMessage
                    do throws(WorkerError) {
                        message = try WorkerMessage(line: line)
                    } catch {
                        throw SandboxError("the worker sent something that is not the worker protocol: \(error.message)", .software)
                    }
                    if message.id == nil, message.method == "event" {
                        onEvent(message.params)
                        continue
                    }
                    guard message.id == id, message.method == nil else { continue }
                    if let error = message.error { throw SandboxError("the worker refused '\(method)': \(error.message)", .software) }
                    return message.result ?? .null
                }
                throw SandboxError("the worker ended without answering '\(method)'")
            }
        }
    }
}
