import Dispatch
import OML
import OsirisCore

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

    /// The files named by `paths`: files as given (whatever their ending), directories expanded to the
    /// OML files below them, sorted. Paths that do not exist come back as errors, in order.
    public static func expand(_ paths: [String]) -> [Result<String, InputError>] {
        var result: [Result<String, InputError>] = []
        for path in paths {
            if path == "-" {
                result.append(.success(path))
            } else if DirectoryWalker.isDirectory(path) {
                var errors: [InputError] = []
                let files = DirectoryWalker.files(under: path, errors: &errors, include: isOMLFile)
                result += files.map { .success($0) }
                result += errors.map { .failure($0) }
            } else if DirectoryWalker.exists(path) {
                result.append(.success(path))
            } else {
                result.append(.failure(InputError(path: path, reason: "No such file or directory")))
            }
        }
        return result
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
private final class OutcomeBuffer: @unchecked Sendable {
    private var storage: [FileOutcome?]
    private let lock = DispatchSemaphore(value: 1)

    init(count: Int) { storage = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ outcome: FileOutcome) {
        lock.wait()
        storage[index] = outcome
        lock.signal()
    }

    var values: [FileOutcome] { storage.map { $0! } }
}
