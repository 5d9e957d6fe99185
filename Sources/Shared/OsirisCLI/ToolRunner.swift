import ArgumentParser
import OsirisCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The version of every tool of the toolchain.
public let osirisVersion = "0.1.0"

/// A usage error found after flag parsing (exit status 64), such as a terminal on stdin.
public struct UsageError: OsirisError {
    /// What is wrong.
    public var message: String

    /// Creates a usage error.
    public init(_ message: String) { self.message = message }

    public var exitStatus: ExitStatus { .usage }
    public var description: String { message }
}

/// Runs a tool's body and turns its outcome into an exit status: the one place where thrown errors
/// become messages on stderr. A closed stdout (EPIPE) ends the tool quietly with status 0.
public enum ToolRunner {
    /// Runs `body`; returns normally only for status 0, otherwise throws ArgumentParser's `ExitCode`.
    public static func run(tool: String, _ body: () throws -> ExitStatus) throws {
        // A closed pipe must come back as EPIPE from write(2), not kill the process.
        signal(SIGPIPE, SIG_IGN)
        // Past a file-size limit (ulimit -f) write(2) must fail with EFBIG, reported as an I/O
        // error, rather than the process dying of SIGXFSZ with its temporary files left behind.
        signal(SIGXFSZ, SIG_IGN)
        let status: ExitStatus
        do {
            status = try body()
        } catch let error as OutputError {
            switch error {
            case .brokenPipe: status = .success
            case .failed(let code):
                reportError(tool: tool, "cannot write output: \(systemMessage(code))")
                status = .ioError
            }
        } catch let error as UsageError {
            reportError(tool: tool, error.message)
            reportError(tool: tool, "see '\(tool) --help'", label: "note")
            status = .usage
        } catch let error as any OsirisError {
            reportError(tool: tool, error.description)
            status = error.exitStatus
        } catch let error as ExitCode {
            throw error
        } catch {
            reportError(tool: tool, "internal error: \(error)")
            status = .software
        }
        if status != .success { throw ExitCode(status.rawValue) }
    }

    /// Writes `tool: error: message` to stderr.
    public static func reportError(tool: String, _ message: String, label: String = "error") {
        try? FileDescriptorOutput.standardError.write("\(tool): \(label): \(message)\n")
    }
}

extension ParsableCommand {
    /// Parses the command line and runs the command the way every Osiris tool does: `--help` and
    /// `--version` on stdout with status 0, flag errors as `TOOL: error: MESSAGE` on stderr with
    /// status 64, and the status the command chose otherwise. `arguments` replaces the command
    /// line's (without the program name) when a tool rewrites it first. `fastPath` runs the command
    /// itself for the command lines it recognises (see `FastCommandLine`), exactly as the parsed
    /// command would, and returns false for the rest, which ArgumentParser parses.
    public static func runAsTool(arguments: [String]? = nil, fastPath: (([String]) throws -> Bool)? = nil) -> Never {
        let tool = configuration.commandName ?? "osiris"
        // `--version` alone is answered before ArgumentParser builds its argument tables, which is
        // about half of a bare start-up (bench/startup); the text is the one ArgumentParser prints.
        if (arguments ?? Array(CommandLine.arguments.dropFirst())) == ["--version"], !configuration.version.isEmpty {
            signal(SIGPIPE, SIG_IGN)  // a closed stdout ends the tool quietly with status 0
            try? FileDescriptorOutput.standardOutput.write(configuration.version + "\n")
            terminate(0)
        }
        do {
            // Skips ArgumentParser's reflection and completion-script probe, about 1.5 ms a start.
            if let fastPath, try fastPath(arguments ?? Array(CommandLine.arguments.dropFirst())) { terminate(0) }
            var command = try parseAsRoot(arguments)
            try command.run()
            terminate(0)
        } catch {
            // The status a command chose: ArgumentParser's exitCode(for:) would build a help generator
            // to find the same number (6 % of linting a file that has findings).
            if let exit = error as? ExitCode, exit != .success { terminate(exit.rawValue) }
            let code = exitCode(for: error)
            if code == .success {
                try? FileDescriptorOutput.standardOutput.write(fullMessage(for: error) + "\n")
                terminate(0)
            }
            if error is ExitCode { terminate(code.rawValue) }
            ToolRunner.reportError(tool: tool, message(for: error))
            ToolRunner.reportError(tool: tool, "see '\(tool) --help'", label: "note")
            terminate(code.rawValue == ExitCode.validationFailure.rawValue ? ExitStatus.usage.rawValue : code.rawValue)
        }
    }
}

/// Ends the process with `status`.
private func terminate(_ status: Int32) -> Never {
    #if canImport(Glibc)
    Glibc.exit(status)
    #elseif canImport(Musl)
    Musl.exit(status)
    #else
    Darwin.exit(status)
    #endif
}
