import Dispatch
import OML
import OsirisCore
import Synchronization

/// The outcome of linting one input.
public enum FileOutcome: Sendable {
    /// The file was read and linted.
    case linted(file: String, result: LintResult)
    /// The file could not be read.
    case unreadable(InputError)
}

/// Lints many files: expands directories, reads and lints in parallel, returns results in input order.
public struct LintSession: Sendable {
    /// The file name endings that mark OML files inside directories.
    public static let fileEndings = [".oml", ".oml.yaml", ".oml.yml"]

    private let linter: Linter

    /// A session using `linter` for every file.
    public init(linter: Linter) { self.linter = linter }

    /// Whether a file name found in a directory is an OML file.
    public static func isOMLFile(_ name: String) -> Bool { fileEndings.contains { name.hasSuffix($0) } }

    /// Whether a file name found in a directory is YAML that may be OML (`.yaml`, `.yml`).
    static func isYAMLFile(_ name: String) -> Bool {
        !isOMLFile(name) && (name.hasSuffix(".yaml") || name.hasSuffix(".yml"))
    }

    /// The connections file's name, which is YAML but never OML.
    static let connectionsFileName = "osiris_connections.yaml"

    /// What a directory argument expanded to besides its OML files.
    public struct DirectoryReport: Sendable, Equatable {
        /// The directory as given.
        public let directory: String
        /// `.yaml`/`.yml` files linted because they are OML.
        public let lintedYAML: Int
        /// `.yaml`/`.yml` files skipped because they have no top-level `oml_version` key.
        public let skippedYAML: Int
    }

    /// The files named by `paths`: files as given (whatever their ending), directories expanded to the
    /// OML files below them, sorted. Paths that do not exist come back as errors, in order.
    ///
    /// Below a directory, `.yaml` and `.yml` files are linted too when they are OML: when they carry
    /// a top-level `oml_version` key, or when the directory holds no `.oml` file at all (pipelines
    /// written for the original tool). `reports` says, per directory, how many YAML files were
    /// linted and skipped, so a hook pointed at a folder cannot pass by linting nothing.
    public static func expand(_ paths: [String], reports: inout [DirectoryReport]) -> [Result<String, InputError>] {
        var result: [Result<String, InputError>] = []
        for path in paths {
            if path == "-" {
                result.append(.success(path))
            } else if DirectoryWalker.isDirectory(path) {
                var errors: [InputError] = []
                let candidates = DirectoryWalker.files(under: path, errors: &errors) { isOMLFile($0) || isYAMLFile($0) }
                let omlFiles = candidates.filter(isOMLFile)
                var linted = 0
                var skipped = 0
                var files: [String] = []
                for file in candidates {
                    if isOMLFile(file) {
                        files.append(file)
                    } else if file.split(separator: "/").last.map(String.init) == connectionsFileName {
                        continue
                    } else if omlFiles.isEmpty || declaresOMLVersion(file) {
                        files.append(file)
                        linted += 1
                    } else {
                        skipped += 1
                    }
                }
                result += files.map { .success($0) }
                result += errors.map { .failure($0) }
                reports.append(DirectoryReport(directory: path, lintedYAML: linted, skippedYAML: skipped))
            } else if DirectoryWalker.exists(path) {
                result.append(.success(path))
            } else {
                result.append(.failure(InputError(path: path, reason: "No such file or directory")))
            }
        }
        return result
    }

    /// The files named by `paths`, without the per-directory reports.
    public static func expand(_ paths: [String]) -> [Result<String, InputError>] {
        var reports: [DirectoryReport] = []
        return expand(paths, reports: &reports)
    }

    /// Whether a YAML file has a top-level `oml_version` key: a line that starts with it, unindented.
    /// An unreadable file counts as OML, so that the read error is reported rather than hidden.
    static func declaresOMLVersion(_ path: String) -> Bool {
        guard let bytes = try? InputFile.read(path) else { return true }
        let key = Array("oml_version".utf8)
        var lineStart = 0
        while lineStart < bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count, bytes[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            var cursor = lineStart
            if bytes[lineStart...].starts(with: [0xEF, 0xBB, 0xBF]) { cursor += 3 }
            if cursor < lineEnd, bytes[cursor] == UInt8(ascii: "\"") || bytes[cursor] == UInt8(ascii: "'") { cursor += 1 }
            if bytes[cursor..<lineEnd].starts(with: key) {
                cursor += key.count
                if cursor < lineEnd, bytes[cursor] == UInt8(ascii: "\"") || bytes[cursor] == UInt8(ascii: "'") { cursor += 1 }
                while cursor < lineEnd, bytes[cursor] == UInt8(ascii: " ") { cursor += 1 }
                if cursor < lineEnd, bytes[cursor] == UInt8(ascii: ":") { return true }
            }
            lineStart = lineEnd + 1
        }
        return false
    }

    /// Lints each file, in parallel on all cores; `stdinName` names standard input (`-`) in findings.
    public func lint(_ files: [String], stdinName: String = "-") -> [FileOutcome] {
        let outcomes = OutcomeBuffer(count: files.count)
        let linter = self.linter
        let work: @Sendable (Int) -> Void = { index in
            let path = files[index]
            let outcome: FileOutcome
            do throws(InputError) {
                let bytes = try InputFile.read(path)
                let name = path == "-" ? stdinName : path
                outcome = .linted(file: name, result: linter.lint(bytes, file: name))
            } catch {
                outcome = .unreadable(error)
            }
            outcomes.set(index, outcome)
        }
        // Standard input cannot be read from another thread while others wait on it; it is only
        // ever one file, so small runs go serially and large ones fan out.
        if files.count < 4 {
            for index in files.indices { work(index) }
        } else {
            DispatchQueue.concurrentPerform(iterations: files.count, execute: work)
        }
        return outcomes.values
    }
}

/// Results written by index from several threads; each index is written once.
private final class OutcomeBuffer: Sendable {
    private let storage: TrackedMutex<[FileOutcome?]>

    init(count: Int) { storage = TrackedMutex(Array(repeating: nil, count: count)) }

    func set(_ index: Int, _ outcome: FileOutcome) {
        storage.withLock { $0[index] = outcome }
    }

    var values: [FileOutcome] { storage.withLock { $0.map { $0! } } }
}
