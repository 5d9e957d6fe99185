import ArgumentParser
import OML
import OMLLint
import OsirisCLI
import OsirisCore

/// `oml-lint`: checks OML pipelines and prints findings (DESIGN.md §10).
struct OMLLintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oml-lint",
        abstract: "Check OML pipeline files for errors and risky patterns.",
        discussion: """
            Lints each FILE, every .oml, .oml.yaml and .oml.yml file below each DIRECTORY (and its \
            .yaml and .yml files that have a top-level oml_version key, or all of them when it holds \
            no .oml file), or standard input when the path is '-' or no path is given. Exit status: 0 clean (warnings allowed \
            unless --strict), 1 findings that fail, 64 usage error, 65 bad snapshot, 66 unreadable \
            input, 70 internal error, 74 findings cannot be written, 78 bad connections file.
            """,
        version: "oml-lint \(osirisVersion)")

    @OptionGroup var diagnostics: DiagnosticOptions

    @OptionGroup var connections: ConnectionsOptions<LintConnections>

    @OptionGroup var snapshot: SnapshotOptions

    @Option(name: .long, help: ArgumentHelp("Print the documentation of a rule and exit.", valueName: "code"))
    var explain: String?

    @Flag(name: .long, help: "List every rule and exit (as JSON lines with --format json).")
    var listRules = false

    @OptionGroup var standardInput: StandardInputOptions

    @Argument(help: ArgumentHelp("OML files or directories; '-' reads standard input.", valueName: "path"))
    var paths: [String] = []

    func run() throws { try LintRequest(self).run() }
}

/// What one oml-lint run is asked to do, as plain values: from ArgumentParser's parse, or from the
/// fast path, which recognises plain command lines without building ArgumentParser's tables and
/// property wrappers (issue 12, bench/startup). Every init sets every value, so a flag added to the
/// command must be added here; CLITests checks that both inits agree, defaults included.
struct LintRequest: Equatable {
    var format: DiagnosticFormat
    var strict: Bool
    var connections: String?
    var snapshot: String?
    var explain: String?
    var listRules: Bool
    var stdinFilename: String
    var paths: [String]

    /// The request of a parsed command line.
    init(_ command: OMLLintCommand) {
        format = command.diagnostics.format
        strict = command.diagnostics.strict
        connections = command.connections.connections
        snapshot = command.snapshot.snapshot
        explain = command.explain
        listRules = command.listRules
        stdinFilename = command.standardInput.stdinFilename
        paths = command.paths
    }

    /// The request of a plain command line (see `FastCommandLine`), or nil for anything else, which
    /// ArgumentParser parses.
    init?(fastArguments arguments: [String]) {
        guard let line = FastCommandLine(
            arguments, flags: ["strict", "list-rules"],
            options: ["format", "connections", "snapshot", "explain", "stdin-filename"])
        else { return nil }
        if let name = line.value("format") {
            guard let chosen = DiagnosticFormat(rawValue: name) else { return nil }
            format = chosen
        } else {
            format = .text
        }
        strict = line.has("strict")
        connections = line.value("connections")
        snapshot = line.value("snapshot")
        explain = line.value("explain")
        listRules = line.has("list-rules")
        stdinFilename = line.value("stdin-filename") ?? "-"
        paths = line.positionals
    }

    /// Runs the request of a plain command line and returns true, or returns false for ArgumentParser.
    static func runFast(_ arguments: [String]) throws -> Bool {
        guard let request = LintRequest(fastArguments: arguments) else { return false }
        try request.run()
        return true
    }

    func run() throws {
        try ToolRunner.run(tool: "oml-lint") {
            if let explain { return try explainRule(explain) }
            if listRules { return try printRules() }
            return try lint()
        }
    }
    private func explainRule(_ code: String) throws -> ExitStatus {
        guard let rule = Linter.rule(code: code) else {
            let near = closestMatch(to: code.uppercased(), among: Linter.ruleDescriptors.map(\.code))
            throw UsageError("unknown rule '\(code)'" + (near.map { "; did you mean '\($0)'?" } ?? "; see 'oml-lint --list-rules'"))
        }
        let text = "\(rule.code) \(rule.name) (\(rule.defaultSeverity.rawValue)): \(rule.summary)\n\n\(wrap(rule.documentation, width: 80))\n"
        try FileDescriptorOutput.standardOutput.write(text)
        return .success
    }

    private func printRules() throws -> ExitStatus {
        var bytes: [UInt8] = []
        for rule in Linter.ruleDescriptors {
            if format == .json {
                bytes += JSONWriter.line([
                    "code": .string(rule.code), "name": .string(rule.name),
                    "severity": .string(rule.defaultSeverity.rawValue), "summary": .string(rule.summary),
                ])
            } else {
                let severity = rule.defaultSeverity.rawValue.padding(8)
                bytes += Array("\(rule.code)  \(severity)  \(rule.name.padding(30))  \(rule.summary)\n".utf8)
            }
        }
        try FileDescriptorOutput.standardOutput.write(bytes)
        return .success
    }

    private func lint() throws -> ExitStatus {
        var inputs = paths
        if inputs.isEmpty { inputs = ["-"] }
        if inputs.contains("-"), InputFile.standardInputIsTerminal {
            throw UsageError("no input: name OML files or directories, or pipe a document to standard input")
        }
        let environment = Environment.current
        let connectionsFile = try ConnectionsLookup.load(explicit: connections, environment: environment)
        let snapshotFile = try SnapshotOptions.load(path: snapshot)

        let session = LintSession(linter: Linter(connections: connectionsFile, snapshot: snapshotFile))
        var printer = DiagnosticPrinter(
            format: format, strict: strict, tool: "oml-lint", rules: Linter.ruleDescriptors, environment: environment)
        var unreadable = false
        var files: [String] = []
        var reports: [LintSession.DirectoryReport] = []
        let entries = LintSession.expand(inputs, reports: &reports)
        for report in reports {
            // Say what was left out, so a hook pointed at a folder cannot pass by linting nothing.
            if report.skippedYAML > 0 {
                let files = report.skippedYAML == 1 ? "1 .yaml/.yml file" : "\(report.skippedYAML) .yaml/.yml files"
                ToolRunner.reportError(
                    tool: "oml-lint", "skipped \(files) below '\(report.directory)' without a top-level 'oml_version' key",
                    label: "note")
            }
        }
        for path in inputs where DirectoryWalker.isDirectory(path) && LintSession.expand([path]).isEmpty {
            ToolRunner.reportError(
                tool: "oml-lint", "no OML files (\(LintSession.fileEndings.joined(separator: ", ")), or .yaml/.yml with 'oml_version') below '\(path)'",
                label: "warning")
        }
        for entry in entries {
            switch entry {
            case .success(let file): files.append(file)
            case .failure(let error):
                ToolRunner.reportError(tool: "oml-lint", error.description)
                unreadable = true
            }
        }
        for outcome in session.lint(files, stdinName: stdinFilename) {
            switch outcome {
            case .linted(_, let result):
                try printer.print(result.diagnostics, source: result.source)
            case .unreadable(let error):
                ToolRunner.reportError(tool: "oml-lint", error.description)
                unreadable = true
            }
        }
        let status = try printer.finish()
        return unreadable ? .noInput : status
    }
}

/// What `--connections` is for in oml-lint.
enum LintConnections: ConnectionsPurpose {
    static let help = "Connections file to check aliases against (OML301)."
}

/// Wraps each paragraph of `text` at `width` columns; lines that start with spaces (examples) stay as they are.
func wrap(_ text: String, width: Int) -> String {
    var output: [String] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasPrefix(" ") || line.count <= width {
            output.append(String(line))
            continue
        }
        var current = ""
        for word in line.split(separator: " ") {
            if !current.isEmpty, current.count + 1 + word.count > width {
                output.append(current)
                current = ""
            }
            current += current.isEmpty ? String(word) : " " + word
        }
        if !current.isEmpty { output.append(current) }
    }
    return output.joined(separator: "\n")
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}

@main
enum Main {
    static func main() { OMLLintCommand.runAsTool(fastPath: LintRequest.runFast) }
}
