import OML
import OsirisCore
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A run directory that cannot be created or read (exit 73 for creation, 66 for a missing resume).
public struct RunDirectoryError: OsirisError {
    /// What is wrong.
    public var message: String
    /// The exit status.
    public var exitStatus: ExitStatus

    /// Creates a run directory error.
    public init(_ message: String, exitStatus: ExitStatus = .cannotCreate) {
        self.message = message
        self.exitStatus = exitStatus
    }

    public var description: String { message }
}

/// The state of one step as `status.json` records it.
public struct StepStatus: Sendable, Equatable {
    /// pending, running, succeeded, failed or skipped.
    public var state: String
    /// Whether the step is a writer whose write committed (what `--resume` skips).
    public var committed: Bool
    /// Tries made in the last run.
    public var attempts: Int
    /// Rows read and written in the last try.
    public var rowsRead: Int
    /// Rows read and written in the last try.
    public var rowsWritten: Int
    /// The error of a failed step.
    public var error: JSONValue?

    /// A pending step.
    public static let pending = StepStatus(state: "pending", committed: false, attempts: 0, rowsRead: 0, rowsWritten: 0, error: nil)
}

/// `DIR/<run_id>/` (DESIGN.md §7.5): `manifest.json`, `events.jsonl`, `status.json` (per-step state
/// for `--resume`), `osiris.log` (human log) and `artifacts/<step>/`.
///
/// `status.json` looks like:
///
/// ```json
/// {"manifest_fp":"sha256:…","run_id":"20261127T021500Z-k3f9q2","status":"failed","steps":{"extract":{"attempts":1,"committed":false,"rows_read":1000,"rows_written":1000,"state":"succeeded"},"write":{"attempts":1,"committed":false,"error":{"code":"RUN","message":"…","retryable":false},"rows_read":0,"rows_written":0,"state":"failed"}}}
/// ```
public final class RunDirectory: Sendable {
    /// The run's folder.
    public let path: String
    /// The run id.
    public let runID: String
    /// The manifest fingerprint the run belongs to.
    public let manifestFingerprint: String
    private let state: TrackedMutex<(status: String, steps: [String: StepStatus])>
    private let logDescriptor: Int32
    private let masker: SecretMasker
    /// Serializes `saveStatus`.
    private let saving = TrackedMutex(())

    /// A new run id: the UTC time, sortable, and six random characters.
    public static func newRunID() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        let suffix = String((0..<6).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
        return "\(UTCTimestamp.compact(seconds: Int(spec.tv_sec)))-\(suffix)"
    }

    /// Creates `parent/<runID>/` with its files for a new run.
    public static func create(parent: String, runID: String, manifest: Manifest, masker: SecretMasker) throws(RunDirectoryError) -> RunDirectory {
        let path = parent.hasSuffix("/") ? parent + runID : parent + "/" + runID
        do {
            try FileSystem.createDirectories(path + "/artifacts")
            try AtomicFile.write(manifest.canonicalBytes, to: path + "/manifest.json")
        } catch {
            throw RunDirectoryError("cannot create run directory '\(path)': \(error)")
        }
        let steps = Dictionary(uniqueKeysWithValues: manifest.steps.map { ($0.id, StepStatus.pending) })
        let directory = try RunDirectory(path: path, runID: runID, manifest: manifest, steps: steps, masker: masker)
        try directory.saveStatus("running")
        return directory
    }

    /// Opens an earlier run's folder to resume it; the manifest must be the one it ran.
    public static func resume(path: String, manifest: Manifest, masker: SecretMasker) throws(RunDirectoryError) -> RunDirectory {
        let statusPath = path + "/status.json"
        let bytes: [UInt8]
        do {
            bytes = try InputFile.read(statusPath)
        } catch {
            // A run stopped (SIGKILL) between writing manifest.json and status.json ran no step: it
            // resumes with every step pending, under the directory's run id.
            if error.reason == "No such file or directory", AtomicFile.hasContents(manifest.canonicalBytes, at: path + "/manifest.json") {
                let runID = path.split(separator: "/").last.map(String.init) ?? path
                let steps = Dictionary(uniqueKeysWithValues: manifest.steps.map { ($0.id, StepStatus.pending) })
                return try RunDirectory(path: path, runID: runID, manifest: manifest, steps: steps, masker: masker)
            }
            throw RunDirectoryError("cannot resume '\(path)': \(error.reason == "No such file or directory" ? "it has no status.json; is it a run directory?" : error.description)", exitStatus: .noInput)
        }
        guard let json = try? JSONParser.parse(bytes), let runID = json["run_id"]?.stringValue else {
            throw RunDirectoryError("cannot resume '\(path)': status.json does not decode", exitStatus: .dataError)
        }
        let fingerprint = manifest.fingerprints["manifest_fp"] ?? ""
        guard json["manifest_fp"]?.stringValue == fingerprint else {
            throw RunDirectoryError(
                "cannot resume '\(path)': it ran another manifest (\(json["manifest_fp"]?.stringValue ?? "none")), not \(fingerprint)",
                exitStatus: .usage)
        }
        var steps: [String: StepStatus] = [:]
        for step in manifest.steps {
            let entry = json["steps"]?[step.id]
            var status = StepStatus.pending
            status.committed = entry?["committed"]?.boolValue ?? false
            steps[step.id] = status
        }
        return try RunDirectory(path: path, runID: runID, manifest: manifest, steps: steps, masker: masker)
    }

    private init(path: String, runID: String, manifest: Manifest, steps: [String: StepStatus], masker: SecretMasker) throws(RunDirectoryError) {
        self.path = path
        self.runID = runID
        self.masker = masker
        manifestFingerprint = manifest.fingerprints["manifest_fp"] ?? ""
        state = TrackedMutex(("running", steps))
        logDescriptor = open(path + "/osiris.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        if logDescriptor < 0 { throw RunDirectoryError("cannot create '\(path)/osiris.log': \(systemMessage(errno))") }
    }

    deinit { close(logDescriptor) }

    /// The path of `events.jsonl`.
    public var eventsPath: String { path + "/events.jsonl" }

    /// The folder for a step's artifacts.
    public func artifactsPath(step: String) -> String { path + "/artifacts/" + step }

    /// Whether a writer committed in an earlier run of this directory.
    public func isCommitted(_ step: String) -> Bool { state.withLock { $0.steps[step]?.committed ?? false } }

    /// The last `seq` in `events.jsonl`, so a resumed run continues the numbering.
    public func lastEventSeq() -> Int {
        guard let bytes = try? InputFile.read(eventsPath) else { return 0 }
        var last = 0
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            if let seq = (try? JSONParser.parse(Array(line)))?["seq"]?.intValue { last = max(last, seq) }
        }
        return last
    }

    /// Updates one step's status and saves `status.json`.
    public func update(_ step: String, _ change: (inout StepStatus) -> Void) {
        state.withLock { state in
            var status = state.steps[step] ?? .pending
            change(&status)
            state.steps[step] = status
        }
        try? saveStatus(nil)
    }

    /// Saves `status.json` atomically, with the run's overall status when given.
    public func saveStatus(_ status: String?) throws(RunDirectoryError) {
        // One save at a time, computed and written under the same lock: steps save from their own
        // threads (a writer's commit), and an older state must never land after a newer one.
        try saving.withLock { _ throws(RunDirectoryError) in try saveStatusLocked(status) }
    }

    private func saveStatusLocked(_ status: String?) throws(RunDirectoryError) {
        let json: JSONValue = state.withLock { state in
            if let status { state.status = status }
            var steps: [String: JSONValue] = [:]
            for (id, step) in state.steps {
                var object: [String: JSONValue] = [
                    "state": .string(step.state), "committed": .bool(step.committed), "attempts": .int(step.attempts),
                    "rows_read": .int(step.rowsRead), "rows_written": .int(step.rowsWritten),
                ]
                if let error = step.error { object["error"] = error }
                steps[id] = .object(object)
            }
            return [
                "run_id": .string(runID), "manifest_fp": .string(manifestFingerprint), "status": .string(state.status),
                "steps": .object(steps),
            ]
        }
        do {
            try AtomicFile.write(JSONWriter.line(masker.mask(json)), to: path + "/status.json")
        } catch {
            throw RunDirectoryError(error.description)
        }
    }

    /// Appends a line to `osiris.log`, with a timestamp, masked.
    public func log(_ message: String) {
        let line = Array("\(UTCTimestamp.now()) \(masker.mask(message))\n".utf8)
        _ = line.withUnsafeBytes { write(logDescriptor, $0.baseAddress, $0.count) }
    }
}
