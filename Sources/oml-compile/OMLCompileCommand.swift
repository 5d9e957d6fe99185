import ArgumentParser
import OML
import OMLCompiler
import OMLLint
import OsirisCLI
import OsirisCore

/// `oml-compile`: turns one OML file into a deterministic, fingerprinted manifest (DESIGN.md §6).
struct OMLCompileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oml-compile",
        abstract: "Compile an OML pipeline into a deterministic, fingerprinted manifest.",
        discussion: """
            Lints FILE ('-' or no FILE reads standard input) and refuses on any error, printing the \
            findings on standard error. Otherwise writes the manifest as canonical JSON to standard \
            output, or to --output atomically, leaving an identical existing file untouched. Exit \
            status: 0 compiled, 1 compile refused (lint errors, or warnings with --strict) or --check \
            found a change, 64 usage error, 65 bad snapshot, 66 unreadable input, 70 internal error, \
            73 output cannot be created, 74 output cannot be written, 78 bad connections file or \
            OSIRIS_PARAM_ value.
            """,
        version: "oml-compile \(osirisVersion)")

    @OptionGroup var diagnostics: DiagnosticOptions

    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("Write the manifest to this file instead of standard output.", valueName: "file"))
    var output: String?

    @Option(name: .long, help: ArgumentHelp("Activate a profile declared in the OML.", valueName: "name"))
    var profile: String?

    @Option(name: .long, help: ArgumentHelp("Set a param, overriding its default, the profile and OSIRIS_PARAM_NAME (repeatable).", valueName: "name=value"))
    var param: [String] = []

    @OptionGroup var connections: ConnectionsOptions<CompileConnections>

    @OptionGroup var snapshot: SnapshotOptions

    @Option(name: .long, help: ArgumentHelp("Also write a make rule naming the output and every input.", valueName: "file"))
    var depfile: String?

    @Flag(name: .long, help: "Write nothing; exit 1 when the --output file is missing or would change.")
    var check = false

    @OptionGroup var standardInput: StandardInputOptions

    @Argument(help: ArgumentHelp("The OML file; '-' reads standard input.", valueName: "file"))
    var file: String?

    /// The command for a plain command line (see `FastCommandLine`), built without ArgumentParser's
    /// parse; nil for anything else (including what `validate()` rejects), which ArgumentParser
    /// parses. CLITests checks that it equals what ArgumentParser builds, defaults included.
    static func fastCommand(_ arguments: [String]) -> OMLCompileCommand? {
        guard let line = FastCommandLine(
            arguments, flags: ["strict", "check"],
            options: ["format", "output", "profile", "param", "connections", "snapshot", "depfile", "stdin-filename"],
            repeatable: ["param"], shortNames: [("o", "output")]),
            line.positionals.count <= 1
        else { return nil }
        var format = DiagnosticFormat.text
        if let name = line.value("format") {
            guard let chosen = DiagnosticFormat(rawValue: name) else { return nil }
            format = chosen
        }
        var command = OMLCompileCommand()
        command.diagnostics = DiagnosticOptions(format: format, strict: line.has("strict"))
        command.output = line.value("output")
        command.profile = line.value("profile")
        command.param = line.values("param")
        command.connections = ConnectionsOptions(connections: line.value("connections"))
        command.snapshot = SnapshotOptions(snapshot: line.value("snapshot"))
        command.depfile = line.value("depfile")
        command.check = line.has("check")
        command.standardInput = StandardInputOptions(stdinFilename: line.value("stdin-filename") ?? "-")
        command.file = line.positionals.first
        guard (try? command.validate()) != nil else { return nil }
        return command
    }

    func validate() throws {
        if check && (output == nil || output == "-") { throw ValidationError("--check compares against the --output file; give -o FILE") }
        if depfile != nil && (output == nil || output == "-") { throw ValidationError("--depfile names the output file in its rule; give -o FILE") }
    }

    func run() throws {
        try ToolRunner.run(tool: "oml-compile") { try compile() }
    }

    private func compile() throws -> ExitStatus {
        let input = file ?? "-"
        if input == "-", InputFile.standardInputIsTerminal {
            throw UsageError("no input: name an OML file, or pipe one to standard input")
        }
        let environment = Environment.current
        let connectionsPath = connections.path(environment: environment)
        let connectionsFile = try connections.load(environment: environment)
        let snapshotFile = try snapshot.load()
        let bytes = try InputFile.read(input)
        let name = standardInput.displayName(of: input)

        let options = CompileOptions(
            profile: profile, params: param, environment: environment, connections: connectionsFile, snapshot: snapshotFile)
        let result: CompileResult
        do {
            result = try Compiler().compile(bytes, file: name, options: options)
        } catch {
            // Profile and param flags are usage errors; OSIRIS_PARAM_ values configuration errors.
            if error.exitStatus == .usage { throw UsageError(error.description) }
            throw error
        }

        var printer = DiagnosticPrinter(
            options: diagnostics, tool: "oml-compile", rules: Linter.ruleDescriptors, environment: environment,
            output: .standardError)
        try printer.print(result.diagnostics, source: result.source)
        let status = try printer.finish()
        guard status == .success, let manifest = result.manifest else { return .failure }

        let bytesOut = manifest.canonicalBytes
        guard let output, output != "-" else {
            try FileDescriptorOutput.standardOutput.write(bytesOut)
            return .success
        }
        if check {
            guard AtomicFile.hasContents(bytesOut, at: output) else {
                let state = DirectoryWalker.exists(output) ? "is out of date" : "does not exist"
                ToolRunner.reportError(tool: "oml-compile", "'\(output)' \(state)", label: "note")
                return .failure
            }
            return .success
        }
        // The depfile first: when it cannot be written, nothing is.
        if let depfile {
            var inputs = input == "-" ? [] : [input]
            if let connectionsPath { inputs.append(connectionsPath) }
            if let path = snapshot.snapshot { inputs.append(path) }
            try AtomicFile.write(Array(Depfile.rule(target: output, inputs: inputs).utf8), to: depfile)
        }
        try AtomicFile.write(bytesOut, to: output)
        return .success
    }
}

/// What `--connections` is for in oml-compile.
enum CompileConnections: ConnectionsPurpose {
    static let help = "Connections file to check aliases against and take family defaults from."
}

@main
enum Main {
    static func main() {
        OMLCompileCommand.runAsTool { arguments in
            guard let command = OMLCompileCommand.fastCommand(arguments) else { return false }
            try command.run()
            return true
        }
    }
}
