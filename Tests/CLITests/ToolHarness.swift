import Foundation
import Testing

/// Runs the built tools as a user would and captures what they print.
enum ToolHarness {
    /// The repository's root folder.
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The conformance cases the suite runs: the repository's own copy in `Tests/Conformance`, so a clone
    /// with nothing beside it tests the same cases (`ConformanceCopyTests` keeps the copy in step with
    /// `../shared/conformance` where that folder exists). `$OSIRIS_CONFORMANCE_DIR` runs another copy.
    static let conformanceDirectory: URL = {
        if let override = ProcessInfo.processInfo.environment["OSIRIS_CONFORMANCE_DIR"] {
            return URL(fileURLWithPath: override)
        }
        return repositoryRoot.appendingPathComponent("Tests/Conformance")
    }()

    /// The upstream conformance folder beside the repository, when there is one.
    static let sharedConformanceDirectory: URL =
        repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/conformance")

    /// The folder holding the built tools: the one the test bundle runs from.
    static let binDirectory: URL = {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return executable.deletingLastPathComponent()
    }()

    /// What a finished run printed.
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
        var stdoutBytes: Data
    }

    /// Starts the built osiris-exec with `arguments` in `folder`, in the background, with `environment`
    /// added to the test's own; its events go to `folder/events.out`, its stderr nowhere. Returns the
    /// process and the events file, for tests that signal or watch a run while it goes on.
    static func startExec(_ arguments: [String], in folder: URL, environment: [String: String] = [:]) throws -> (Process, URL) {
        let process = Process()
        process.executableURL = binDirectory.appendingPathComponent("osiris-exec")
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let events = folder.appendingPathComponent("events.out")
        guard FileManager.default.createFile(atPath: events.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: events.path])
        }
        process.standardOutput = try FileHandle(forWritingTo: events)
        process.standardError = FileHandle.nullDevice
        try process.run()
        return (process, events)
    }

    /// Runs `tool` with `arguments` in `directory`, feeding `stdin` (an empty stdin when nil).
    static func run(
        _ tool: String, _ arguments: [String], in directory: URL? = nil, stdin: Data? = nil,
        environment: [String: String] = [:]
    ) throws -> Run {
        let process = Process()
        process.executableURL = try executable(tool)
        process.arguments = arguments
        process.currentDirectoryURL = directory ?? repositoryRoot
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        // Keep the user's own connections file out of the tests.
        env["XDG_CONFIG_HOME"] = "/nonexistent"
        env.removeValue(forKey: "OSIRIS_CONNECTIONS")
        // Tests run under `make test`: a make started by a test must not think it is a sub-make.
        for key in ["MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES"] { env.removeValue(forKey: key) }
        for (key, value) in environment { env[key] = value }
        process.environment = env
        // Files instead of pipes: no reader threads, no deadlock on large outputs.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("osiris-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let paths = ["stdin", "stdout", "stderr"].map { folder.appendingPathComponent($0) }
        try (stdin ?? Data()).write(to: paths[0])
        _ = FileManager.default.createFile(atPath: paths[1].path, contents: nil)
        _ = FileManager.default.createFile(atPath: paths[2].path, contents: nil)
        let input = try FileHandle(forReadingFrom: paths[0])
        let output = try FileHandle(forWritingTo: paths[1])
        let errors = try FileHandle(forWritingTo: paths[2])
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        try input.close()
        try output.close()
        try errors.close()
        let outputData = try Data(contentsOf: paths[1])
        let errorData = try Data(contentsOf: paths[2])
        return Run(
            status: process.terminationStatus, stdout: String(decoding: outputData, as: UTF8.self),
            stderr: String(decoding: errorData, as: UTF8.self), stdoutBytes: outputData)
    }

    /// Where `tool` is: a path as given, one of the built tools, else the first match on `PATH`.
    static func executable(_ tool: String) throws -> URL {
        if tool.contains("/") { return URL(fileURLWithPath: tool) }
        let built = binDirectory.appendingPathComponent(tool)
        if FileManager.default.isExecutableFile(atPath: built.path) { return built }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":") where !folder.isEmpty {
            let candidate = URL(fileURLWithPath: String(folder)).appendingPathComponent(tool)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw ToolNotFound(name: tool, path: path)
    }

    /// A tool a test needs is neither built nor on `PATH`.
    struct ToolNotFound: Error, CustomStringConvertible {
        var name: String
        var path: String
        var description: String { "'\(name)' is not built and not on PATH (\(path))" }
    }

    /// Decodes JSON lines into objects.
    static func jsonLines(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { line in
            try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
    }
}
