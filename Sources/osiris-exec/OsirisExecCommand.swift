import ArgumentParser
import OML
import OsirisCLI
import OsirisCore
import OsirisDrivers
import OsirisRunner
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `osiris-exec`: runs a manifest and reports every step as JSON lines on stdout (DESIGN.md §7).
struct OsirisExecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "osiris-exec",
        abstract: "Run a compiled pipeline manifest, printing run events as JSON lines.",
        discussion: """
            Runs MANIFEST (from oml-compile; '-' or no MANIFEST reads standard input). Events go to \
            standard output one JSON object per line and to DIR/<run_id>/events.jsonl; a human log goes \
            to osiris.log beside it. A failed run prints one line per failed step on standard error. \
            When standard output is closed early the run goes on, recorded in events.jsonl. Exit status: \
            0 success, 1 a step failed (or its component has no driver in this build), 64 usage error, \
            65 the manifest does not decode or is invalid (edited after oml-compile, a cycle, an unknown \
            component...), 66 it is missing, 69 a server (or the --sandbox worker) is unreachable, 70 internal error, 73 the run \
            directory cannot be created, 74 a file writer could not write (disk full, file-size limit), 75 a temporary error outlived its retries, 77 credentials \
            rejected, 78 configuration (unset variable, unknown alias), 130/143 interrupted.
            """,
        version: "osiris-exec \(osirisVersion)")

    @Option(name: .long, help: ArgumentHelp("Folder for run directories.", valueName: "dir"))
    var runDir = ".osiris/runs"

    @OptionGroup var connections: ConnectionsOptions<ExecConnections>

    @Option(name: .long, help: ArgumentHelp("How many steps run at once (default: the number of cores).", valueName: "n"))
    var jobs: Int?

    @Option(name: .long, help: ArgumentHelp("Run again in an earlier run's directory, skipping writers that committed there.", valueName: "run-dir"))
    var resume: String?

    @Option(name: .long, help: ArgumentHelp(
        "Run the steps in a sandbox worker: alone (or 'local'), this binary isolated with bubblewrap (or a plain child when bwrap is unavailable); 'e2b', an E2B sandbox (key in E2B_API_KEY); with CMD, a command (through /bin/sh -c) that starts 'osiris-exec --worker', such as 'ssh etl01 osiris-exec --worker'.",
        valueName: "cmd"))
    var sandbox: String?

    @Option(name: .long, help: ArgumentHelp("With --sandbox e2b: the template the sandbox is created from (default: E2B_TEMPLATE, else 'base').", valueName: "name"))
    var e2bTemplate: String?

    @Flag(name: .long, help: "With --sandbox alone: fail (exit 69) instead of running the worker unisolated when bubblewrap is unavailable.")
    var requireIsolation = false

    @Flag(name: .long, help: "Serve the worker protocol (osiris-worker(7)) on standard input and output; started by a host's --sandbox.")
    var worker = false

    @Argument(help: ArgumentHelp("The manifest; '-' reads standard input.", valueName: "manifest"))
    var manifest: String?

    static func preprocess(_ arguments: [String]) -> [String] {
        // `--sandbox` alone (followed by another flag, '-', an existing file or nothing) is the local
        // sandbox, spelled `local` (as `--sandbox=local` also is); anything else after it is CMD.
        // `--sandbox=CMD` is never ambiguous.
        var result: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--sandbox" {
                let next = index + 1 < arguments.count ? arguments[index + 1] : nil
                if let next, !next.hasPrefix("-"), access(next, F_OK) != 0 {
                    result += ["--sandbox=" + next]
                    index += 2
                    continue
                }
                result.append("--sandbox=local")
            } else {
                result.append(argument)
            }
            index += 1
        }
        return result
    }

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if worker, sandbox != nil || manifest != nil || resume != nil || requireIsolation || e2bTemplate != nil {
            throw ValidationError("--worker takes no manifest and no other run flag: the host sends everything")
        }
        if e2bTemplate != nil, sandbox != "e2b" { throw ValidationError("--e2b-template goes with --sandbox e2b") }
        if requireIsolation, sandbox != "local" { throw ValidationError("--require-isolation goes with --sandbox alone (the local sandbox)") }
    }

    func run() throws {
        if worker { return try serveWorker() }
        let cancellation = CancellationToken()
        SignalWatcher.start { status in cancellation.cancel(status: status) }
        try ToolRunner.run(tool: "osiris-exec") { try execute(cancellation) }
    }

    /// `--worker`: the host drives everything through the protocol; nothing is read from the
    /// environment but TMPDIR.
    private func serveWorker() throws {
        try ToolRunner.run(tool: "osiris-exec") {
            let server = try WorkerServer.start(version: osirisVersion, environment: Environment.current)
            SignalWatcher.start { status in server.hangUp(status) }
            return server.serve()
        }
    }

    private func execute(_ cancellation: CancellationToken) throws -> ExitStatus {
        let input = manifest ?? "-"
        if input == "-", InputFile.standardInputIsTerminal {
            throw UsageError("no input: name a manifest (from oml-compile), or pipe one to standard input")
        }
        let plan = try Manifest.decode(try InputFile.read(input), path: input)
        let environment = Environment.current
        let connectionsFile = try connections.load(environment: environment)
        let masker = SecretMasker()
        var options = RunOptions(resolver: ConnectionResolver(
            connections: connectionsFile, searched: connections.searched, environment: environment, masker: masker))
        options.runDirectoryParent = runDir
        options.resume = resume
        options.jobs = jobs ?? ProcessorCount.online
        options.eventSinks = [ClosablePipeSink(descriptor: 1)]
        let terminal = FileDescriptorOutput.standardError.isTerminal
        if terminal {
            options.onProgress = { line in
                try? FileDescriptorOutput.standardError.write("\r\u{1B}[Kosiris-exec: \(masker.mask(line))")
            }
        }
        let outcome: RunOutcome
        if let sandbox {
            var sandboxOptions = SandboxOptions(command: sandbox == "local" || sandbox == "e2b" ? nil : sandbox)
            if sandbox == "e2b" {
                sandboxOptions.e2b = try E2BSettings(environment: environment, template: e2bTemplate)
                sandboxOptions.onWorkerStandardError = { bytes in try? FileDescriptorOutput.standardError.write(bytes) }
            }
            sandboxOptions.requireIsolation = requireIsolation
            sandboxOptions.environment = environment
            options.adapter = "sandbox"
            outcome = try SandboxRunner(
                manifest: plan, options: options, sandbox: sandboxOptions, cancellation: cancellation, masker: masker).run()
        } else {
            outcome = try Runner(manifest: plan, options: options, cancellation: cancellation, masker: masker).run()
        }
        if terminal { try? FileDescriptorOutput.standardError.write("\r\u{1B}[K") }
        // Scripts and CI logs see why a run failed without opening the run directory; steps that
        // were only interrupted are left out.
        for failure in outcome.failedSteps where outcome.status == "failed" || failure.code != "CANCELLED" {
            let message = failure.message.split(whereSeparator: \.isNewline).joined(separator: " ")
            ToolRunner.reportError(tool: "osiris-exec", "step '\(failure.stepID)' failed: \(failure.code): \(message)")
        }
        if terminal {
            let rootCause = outcome.failedSteps.first { !["UPSTREAM_FAILED", "CANCELLED"].contains($0.code) } ?? outcome.failedSteps.first
            let cause = outcome.status == "failed" ? rootCause.map { " at step '\($0.stepID)'" } ?? "" : ""
            try? FileDescriptorOutput.standardError.write("osiris-exec: run \(outcome.runID) \(outcome.status)\(cause) (\(outcome.directory))\n")
        }
        return outcome.exitStatus
    }
}

/// Standard output for events: once the reader goes away (EPIPE) it stops writing there, and the
/// run goes on with events.jsonl as its record (osiris-exec(1), "Standard output").
final class ClosablePipeSink: EventSink, Sendable {
    private let output: FileDescriptorOutput
    private let closed = Atomic(false)

    init(descriptor: Int32) { output = FileDescriptorOutput(descriptor: descriptor) }

    func write(line: [UInt8]) throws {
        guard !closed.load(ordering: .relaxed) else { return }
        do {
            try output.write(line)
        } catch {
            closed.store(true, ordering: .relaxed)
        }
    }
}

@main
enum Main {
    static func main() {
        OsirisExecCommand.runAsTool(arguments: OsirisExecCommand.preprocess(Array(CommandLine.arguments.dropFirst())))
    }
}

/// What `--connections` is for in osiris-exec.
enum ExecConnections: ConnectionsPurpose {
    static let help = "Connections file (default: $OSIRIS_CONNECTIONS, ./osiris_connections.yaml, $XDG_CONFIG_HOME/osiris/connections.yaml)."
}
