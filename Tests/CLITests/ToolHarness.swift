import Foundation
import Testing

/// Runs the built tools as a user would and captures what they print.
enum ToolHarness {
    /// The repository's root folder.
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The shared conformance folder: `$OSIRIS_CONFORMANCE_DIR`, else `../shared/conformance` beside the repository.
    static let conformanceDirectory: URL = {
        if let override = ProcessInfo.processInfo.environment["OSIRIS_CONFORMANCE_DIR"] {
            return URL(fileURLWithPath: override)
        }
        return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/conformance")
    }()

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

    /// Runs `tool` with `arguments` in `directory`, feeding `stdin` (an empty stdin when nil).
    static func run(
        _ tool: String, _ arguments: [String], in directory: URL? = nil, stdin: Data? = nil,
        environment: [String: String] = [:]
    ) throws -> Run {
        let process = Process()
        process.executableURL = tool.hasPrefix("/") ? URL(fileURLWithPath: tool) : binDirectory.appendingPathComponent(tool)
        process.arguments = arguments
        process.currentDirectoryURL = directory ?? repositoryRoot
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        // Keep the user's own connections file out of the tests.
        env["XDG_CONFIG_HOME"] = "/nonexistent"
        env.removeValue(forKey: "OSIRIS_CONNECTIONS")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        // Files instead of pipes: no reader threads, no deadlock on large outputs.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("osiris-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let paths = ["stdin", "stdout", "stderr"].map { folder.appendingPathComponent($0) }
        try (stdin ?? Data()).write(to: paths[0])
        FileManager.default.createFile(atPath: paths[1].path, contents: nil)
        FileManager.default.createFile(atPath: paths[2].path, contents: nil)
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

    /// Decodes JSON lines into objects.
    static func jsonLines(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { line in
            try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
    }
}
