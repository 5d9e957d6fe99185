import Foundation

/// Runs shell commands in a pseudo-terminal made by script(1), for the tests of what the tools do
/// when a person sits at a terminal (clarifying questions, the preview's accept / edit / quit).
public enum PseudoTerminal {
    /// What the terminal showed (with its `\r\n` line ends), the command's exit status, and whether
    /// the prompt appeared before the deadline.
    public struct Session: Sendable {
        /// Everything written to the terminal.
        public var shown: String
        /// The exit status of the command (script's `-e`).
        public var status: Int32
        /// Whether `prompt` showed before the deadline (the answers are typed only then).
        public var prompted: Bool
    }

    /// script(1) is missing from `PATH`.
    public struct ScriptNotFound: Error, CustomStringConvertible {
        /// The `PATH` searched.
        public var path: String
        /// What to install.
        public var description: String { "script(1) is not on PATH (\(path)); it comes with Debian's bsdutils" }
    }

    /// Runs `command` with `sh -c` in a pseudo-terminal in `folder`, types `answers` once `prompt`
    /// shows (within `timeout` seconds), and waits for it to end. The transcript is kept in
    /// `folder/terminal.out`.
    public static func run(
        _ command: String, in folder: URL, typing answers: String, after prompt: String, timeout: TimeInterval = 30
    ) throws -> Session {
        let process = Process()
        process.executableURL = try script()
        process.arguments = ["-qec", command, "/dev/null"]
        process.currentDirectoryURL = folder
        let input = Pipe()
        let output = folder.appendingPathComponent("terminal.out")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        process.standardInput = input
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = FileHandle.nullDevice
        try process.run()
        func shown() -> String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline, process.isRunning, !shown().contains(prompt) {
            usleep(20_000)
        }
        let prompted = shown().contains(prompt)
        if prompted, process.isRunning { try input.fileHandleForWriting.write(contentsOf: Data(answers.utf8)) }
        process.waitUntilExit()
        return Session(shown: shown(), status: process.terminationStatus, prompted: prompted)
    }

    /// script(1), found on `PATH`.
    static func script() throws -> URL {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":") where !folder.isEmpty {
            let candidate = URL(fileURLWithPath: String(folder)).appendingPathComponent("script")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw ScriptNotFound(path: path)
    }
}
