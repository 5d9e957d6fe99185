import ArgumentParser
import OsirisCore

extension DiagnosticFormat: ExpressibleByArgument {}

/// The flags every tool that reports diagnostics shares.
public struct DiagnosticOptions: ParsableArguments {
    /// How findings are printed.
    @Option(name: .long, help: "Output format: text, json (one object per line), sarif or github.")
    public var format: DiagnosticFormat = .text

    /// Whether warnings fail the run.
    @Flag(name: .long, help: "Exit with status 1 when there are warnings, not only errors.")
    public var strict = false

    /// Creates the options with their defaults.
    public init() {}

    /// Creates the options with these values, as a tool's fast path does instead of parsing them.
    public init(format: DiagnosticFormat, strict: Bool) {
        // Set on a copy: inside an initializer the assignment would build a new, unparsed wrapper.
        var options = Self()
        options.format = format
        options.strict = strict
        self = options
    }
}

/// Prints diagnostics file by file in the chosen format and decides the run's exit status.
public struct DiagnosticPrinter {
    private var renderer: any DiagnosticRenderer
    private let output: FileDescriptorOutput
    private let strict: Bool
    /// What has been printed so far.
    public private(set) var summary = DiagnosticSummary()

    /// A printer writing to `output`: stdout for tools whose product is the findings (oml-lint),
    /// stderr for tools that have another product (oml-compile).
    public init(
        options: DiagnosticOptions, tool: String, rules: [RuleDescriptor], environment: [String: String],
        output: FileDescriptorOutput = .standardOutput
    ) {
        self.init(format: options.format, strict: options.strict, tool: tool, rules: rules, environment: environment, output: output)
    }

    /// A printer for the values of `--format` and `--strict`, for a tool's fast path.
    public init(
        format: DiagnosticFormat, strict: Bool, tool: String, rules: [RuleDescriptor], environment: [String: String],
        output: FileDescriptorOutput = .standardOutput
    ) {
        self.output = output
        self.strict = strict
        renderer = makeRenderer(
            format: format, toolName: tool, toolVersion: osirisVersion, rules: rules,
            useColor: colorEnabled(for: output, environment: environment))
    }

    /// Prints one file's findings.
    public mutating func print(_ diagnostics: [Diagnostic], source: SourceText?) throws {
        summary.add(fileDiagnostics: diagnostics)
        let bytes = renderer.render(diagnostics, source: source)
        if !bytes.isEmpty { try output.write(bytes) }
    }

    /// Prints what the format writes at the end and returns 1 when the findings fail the run.
    public mutating func finish() throws -> ExitStatus {
        let bytes = renderer.finish(summary: summary)
        if !bytes.isEmpty { try output.write(bytes) }
        if summary.errors > 0 || (strict && summary.warnings > 0) { return .failure }
        return .success
    }
}
